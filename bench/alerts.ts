import { randomUUID } from 'node:crypto';

/**
 * Threat Stack alerts for the benchmark, shaped like events/sample-batch.json (time-based UUID
 * ids, millisecond timestamps, host and CloudTrail sources). Every id is new: the delivery ledger
 * must claim each one for the first time.
 */
export const makeAlerts = (count: number, now = Date.now()): Record<string, unknown>[] =>
  Array.from({ length: count }, (_, i) => {
    const cloudTrail = i % 3 === 0;
    return {
      id: randomUUID(),
      title: cloudTrail ? 'CloudTrail: Root login without MFA' : 'Host: sudo to root by unexpected user',
      created_at: now - i,
      severity: (i % 3) + 1,
      organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
      organization_name: 'Example Corp',
      server_or_region: cloudTrail ? 'us-east-1' : `web-${i % 50}.example.internal`,
      source: cloudTrail ? 'CloudTrail' : 'Host',
    };
  });

export const webhookBody = (alerts: readonly Record<string, unknown>[]): string => JSON.stringify({ alerts });

/**
 * Bodies whose keys hold escapes, as an attacker (or a strange producer) could send them: every
 * alert with `keysPerAlert` extra keys, each spelled with an escape. `unicode` keys (`"\u00e901"`)
 * decode to characters that need no escape; `backslash` keys (`"\\01"`) decode to a backslash,
 * which must stay escaped. Written by hand: JSON.stringify would not escape them.
 */
export type EscapedKeyStyle = 'unicode' | 'backslash';
export const escapedKeyBody = (alerts: number, keysPerAlert: number, style: EscapedKeyStyle): string => {
  const prefix = style === 'unicode' ? '\\u00e9' : '\\\\';
  const keys = Array.from({ length: keysPerAlert }, (_, k) => `"${prefix}${String(k).padStart(2, '0')}":1`).join(',');
  return `{"alerts":[${Array.from({ length: alerts }, (_, i) => `{"id":"esc-${i}",${keys}}`).join(',')}]}`;
};

/** Realistic alerts whose values hold escapes (a newline in the title, a quoted name, a URL): the common case of a backslash. */
export const escapedValueBody = (count: number): string =>
  webhookBody(makeAlerts(count).map((alert, i) => ({ ...alert, title: `${String(alert.title)}\n"user-${i}" at https://example.com/a/b` })));

/** Whether ingest accepted a call: any 2xx (200 since 2026-12-04, 202 before, which `--against` an older ref meets). */
export const wasAccepted = (status: number): boolean => status >= 200 && status < 300;
