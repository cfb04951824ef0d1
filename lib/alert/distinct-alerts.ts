import type { ReceivedAlert } from './decode-webhook';
import { fingerprintOf } from './fingerprint';

/**
 * Keeps the first of each alert sent twice in one batch: the same id AND the same fingerprint (the
 * fields its incident shows). Two alerts that share an id but differ (a raised severity) both page.
 */
export const distinctAlerts = (alerts: readonly ReceivedAlert[]): ReceivedAlert[] => {
  // Only an id that repeats needs a fingerprint: nine digests an alert, a cost that a batch of
  // distinct ids, the usual one, need not spend (ingest's time per alert: docs/performance.md).
  const perId = new Map<string, number>();
  for (const { read } of alerts) perId.set(read.id, (perId.get(read.id) ?? 0) + 1);
  const seen = new Set<string>();
  return alerts.filter(({ read, fields }) => {
    if (perId.get(read.id) === 1) return true;
    const key = `${read.id}\u0000${fingerprintOf(fields).value}`;
    return !seen.has(key) && Boolean(seen.add(key));
  });
};
