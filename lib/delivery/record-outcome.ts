import type { Logger } from '../common/logger';
import type { RelayMetrics } from '../common/metrics';
import type { Priority, SeverityPriorities } from '../incident/priorities';
import type { DeliveryLedger } from '../ledger/ledger';
import type { MessageQueue, RetryScheduler } from '../queue/message-queue';
import type { QueuedAlert } from '../queue/messages';
import type { CircuitBreaker } from './circuit-breaker';
import type { SendRateLimiter } from './rate-limit';
import type { RecoveryWatch } from './recovery-watch';
import type { RetryPolicy } from './retry-budget';
import { deferralSeconds, retryDelaySeconds } from './retry-budget';
import type { IncidentSink } from './squadcast-sink';

/** One received message, independent of the Lambda event's shape. */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
  readonly receiptHandle: string;
  /** SQS `ApproximateReceiveCount`: 1 on the first attempt. */
  readonly receiveCount: number;
  /** SQS `SentTimestamp` (epoch ms): when the message was put on the alerts queue, or redriven to it. */
  readonly sentAtMs?: number;
}

export type RecordOutcome =
  | { readonly kind: 'delivered' | 'duplicate' | 'dead-lettered' }
  /** An attempt failed (or a step before it): back after the backoff; gives up once the budget is spent. */
  | { readonly kind: 'retry'; readonly reason: string; readonly delaySeconds: number }
  /** Not attempted (rate ceiling, lease held elsewhere): back when it can go; never gives up. */
  | { readonly kind: 'deferred'; readonly reason: string; readonly delaySeconds: number };

/** What a delivery attempt works with. Every collaborator is required; tests pass inert ones. */
export interface DeliverDeps {
  readonly sink: IncidentSink;
  readonly ledger: DeliveryLedger;
  readonly deadLetters: MessageQueue;
  readonly retries: RetryScheduler;
  readonly retryPolicy: RetryPolicy;
  /** Records of one batch sent to Squadcast at once. */
  readonly concurrency: number;
  readonly log: Logger;
  readonly metrics: RelayMetrics;
  readonly now: () => Date;
  readonly random: () => number;
  /** The ceiling on POSTs to Squadcast (SQUADCAST_MAX_PER_MINUTE). */
  readonly rateLimit: SendRateLimiter;
  /** Brings this container's failed records forward when Squadcast comes back. */
  readonly recovery: RecoveryWatch;
  /** While Squadcast fails, lets one probe through per step and holds the rest back. */
  readonly breaker: CircuitBreaker;
  /** Squadcast priority per severity (SEVERITY_PRIORITIES). */
  readonly priorities: SeverityPriorities;
  /** Squadcast priority of an alert whose severity could not be read (UNKNOWN_SEVERITY_PRIORITY). */
  readonly unknownSeverityPriority: Priority;
  /** How much of a lease a POST and its record need (lib/delivery/lease-budget.ts, `postWindowMs`). */
  readonly postWindowMs: number;
}

/**
 * Since when the alert has waited, in epoch ms: SQS's SentTimestamp, else the envelope's
 * `receivedAt` (set by ingest just before it queued the alert). SentTimestamp comes first on
 * purpose: a redrive from the dead-letter queue queues the message anew (new SentTimestamp), so an
 * alert an operator redrives gets a fresh budget, while `receivedAt` keeps the original time.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
 * With neither, the alert counts as just queued: it never gives up, and the backstop decides.
 */
const waitedSince = (record: QueueRecord, queued: QueuedAlert | undefined): number => {
  if (record.sentAtMs !== undefined) return record.sentAtMs;
  return queued?.receivedAt === undefined ? NaN : Date.parse(queued.receivedAt);
};

/** How long the alert has waited at `now`, in seconds (0 when unknown, or when a clock runs ahead). */
export const waitedSeconds = (record: QueueRecord, queued: QueuedAlert | undefined, now: Date): number => {
  const since = waitedSince(record, queued);
  return Number.isNaN(since) ? 0 : Math.max(0, now.getTime() - since) / 1000;
};

/** The next attempt after a failure: backoff by the alert's age and receives, or Squadcast's Retry-After (lib/delivery/retry-budget.ts). */
export const retryLater = (
  record: QueueRecord,
  queued: QueuedAlert | undefined,
  deps: DeliverDeps,
  reason: string,
  retryAfterMs?: number,
): RecordOutcome => ({
  kind: 'retry',
  reason,
  delaySeconds: retryDelaySeconds(
    waitedSeconds(record, queued, deps.now()),
    record.receiveCount,
    deps.retryPolicy,
    deps.random,
    (retryAfterMs ?? 0) / 1000,
  ),
});

/** Put back without an attempt (rate ceiling, lease held elsewhere): no backoff, no give-up, only the backstop's floor. */
export const deferred = (record: QueueRecord, deps: DeliverDeps, reason: string, delaySeconds: number): RecordOutcome => ({
  kind: 'deferred',
  reason,
  delaySeconds: deferralSeconds(delaySeconds, record.receiveCount, deps.retryPolicy),
});
