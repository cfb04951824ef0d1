import { mapWithConcurrency } from '../common/concurrency';
import { SQS_MAX_VISIBILITY_SECONDS } from '../queue/message-queue';
import type { DeliverDeps, QueueRecord, RecordOutcome } from './record-outcome';

/**
 * When records put back come again: each failed record's visibility is changed to its delay (cut to
 * what SQS allows), and the records this container parked after failed attempts are made visible at
 * once when Squadcast has just come back (lib/delivery/recovery-watch.ts).
 */

/**
 * The receive happened before the batch reached deliver (the event source mapping's batching
 * window, 1 s, and its own delays): this much more than the batch's own time counts as spent.
 */
export const RECEIVE_MARGIN_SECONDS = 60;

/**
 * The longest visibility timeout SQS accepts now for a record of a batch that began at
 * `batchStartMs` (ChangeMessageVisibility does not restart the 12 hours). A longer one is refused,
 * and the alert would come back at the queue's timeout instead, unnoticed.
 */
export const visibilityLimitSeconds = (batchStartMs: number, nowMs: number): number =>
  Math.max(0, SQS_MAX_VISIBILITY_SECONDS - RECEIVE_MARGIN_SECONDS - Math.ceil(Math.max(0, nowMs - batchStartMs) / 1000));

/** ChangeMessageVisibility calls in flight when records are woken (a few hundred take about a second). */
const WAKE_CONCURRENCY = 10;

/** A record to put back, with the delay it will really get. */
export interface PutBack {
  readonly record: QueueRecord;
  readonly outcome: Extract<RecordOutcome, { kind: 'retry' | 'deferred' }>;
  readonly delaySeconds: number;
}

/** The records of a batch to put back, each delay cut to what SQS allows now (cuts counted and logged). */
export const putBacks = (
  records: readonly QueueRecord[],
  outcomes: readonly RecordOutcome[],
  batchStartMs: number,
  deps: DeliverDeps,
): PutBack[] => {
  const limitSeconds = visibilityLimitSeconds(batchStartMs, deps.now().getTime());
  const failures = records.flatMap((record, i): PutBack[] => {
    const outcome = outcomes[i];
    if (outcome?.kind !== 'retry' && outcome?.kind !== 'deferred') return [];
    return [{ record, outcome, delaySeconds: Math.min(outcome.delaySeconds, limitSeconds) }];
  });
  const clamped = failures.filter(({ outcome, delaySeconds }) => delaySeconds < outcome.delaySeconds).length;
  if (clamped > 0) {
    deps.metrics.count('retryClamped', clamped);
    deps.log.warn('retry delays cut to what SQS allows (12 hours from the receive); those alerts come back sooner', {
      clamped,
      limitSeconds,
    });
  }
  return failures;
};

/** Puts each record back for its delay; then, if Squadcast has just come back, wakes those parked before. */
export const scheduleRetries = async (failures: readonly PutBack[], deps: DeliverDeps): Promise<void> => {
  await Promise.all(
    failures.map(({ record, delaySeconds }) =>
      deps.retries.retryAfter(record.receiptHandle, delaySeconds).catch(() => {
        // The queue's own visibility timeout still brings the record back.
      }),
    ),
  );
  const now = deps.now().getTime();
  for (const { record, outcome, delaySeconds } of failures) {
    if (outcome.kind === 'retry') deps.recovery.parked(record.receiptHandle, now + delaySeconds * 1000, now);
  }
  // Parked first: a record held back earlier in the batch whose probe brought Squadcast back is woken with the rest.
  const woken = deps.recovery.wake(now);
  await mapWithConcurrency(woken, WAKE_CONCURRENCY, (receiptHandle) =>
    deps.retries.retryAfter(receiptHandle, 0).catch(() => {
      // Received again meanwhile, or deleted: it is back already.
    }),
  );
};
