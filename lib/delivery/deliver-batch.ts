import { mapWithConcurrency } from '../common/concurrency';
import type { CountMetric } from '../common/metrics';
import { deliverRecord, HELD_BACK } from './deliver-record';
import type { DeliverDeps, QueueRecord, RecordOutcome } from './record-outcome';
import { retryLater, waitedSeconds } from './record-outcome';
import { putBacks, scheduleRetries } from './retry-scheduling';

const OUTCOME_METRIC: Readonly<Record<RecordOutcome['kind'], CountMetric>> = {
  delivered: 'delivered',
  duplicate: 'duplicate',
  'dead-lettered': 'deadLettered',
  retry: 'retried',
  deferred: 'retried',
};

export interface BatchResult {
  /** Message ids to report in `batchItemFailures`: they stay on the queue and come back later. */
  readonly failedMessageIds: string[];
  readonly outcomes: RecordOutcome[];
}

/**
 * Delivers a batch, records in parallel (bounded). Failed records are reported, never swallowed,
 * and their next attempt is pushed out by exponential backoff (or Squadcast's Retry-After) by
 * changing their visibility, instead of coming back at the queue's fixed visibility timeout.
 */
export const deliverBatch = async (records: readonly QueueRecord[], deps: DeliverDeps): Promise<BatchResult> => {
  const batchStartMs = deps.now().getTime();
  const outcomes = await mapWithConcurrency(records, deps.concurrency, (record) =>
    deliverRecord(record, deps).catch((error: unknown): RecordOutcome => {
      deps.log.error('delivery step failed; will retry', { messageId: record.messageId, error: (error as Error)?.name ?? 'unknown' });
      // Backed off like a Squadcast outage, never given up on: the dead-letter queue may be what is down.
      return retryLater(record, undefined, deps, 'dependency error');
    }),
  );
  for (const outcome of outcomes) deps.metrics.count(OUTCOME_METRIC[outcome.kind]);
  const heldBack = outcomes.filter((outcome) => outcome.kind === 'retry' && outcome.reason === HELD_BACK).length;
  // One line a batch, not one an alert: during an outage most of the batch is held back.
  if (heldBack > 0) deps.log.warn('Squadcast failing: alerts held back untried while a probe tests it; will retry', { heldBack });
  const failures = putBacks(records, outcomes, batchStartMs, deps);
  // Whatever holds an alert back (a failed send, a dependency, the ceiling, another's lease): the oldest one's age.
  const now = deps.now();
  for (const { record } of failures) deps.metrics.largest('oldestHeldBackAlertAge', waitedSeconds(record, undefined, now));
  await scheduleRetries(failures, deps);
  return { failedMessageIds: failures.map(({ record }) => record.messageId), outcomes };
};
