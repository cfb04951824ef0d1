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
