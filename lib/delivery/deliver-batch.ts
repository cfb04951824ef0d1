import { changedFields, fingerprintOf, holdMsFor } from '../alert/fingerprint';
import { readAlert } from '../alert/read-alert';
import { decodeWith } from '../common/checked';
import { mapWithConcurrency } from '../common/concurrency';
import { parseJson } from '../common/json';
import type { Logger } from '../common/logger';
import type { CountMetric, RelayMetrics } from '../common/metrics';
import type { Priority, SeverityPriorities } from '../incident/to-incident';
import { toIncident } from '../incident/to-incident';
import type { DeliveryLedger } from '../ledger/ledger';
import type { MessageQueue, RetryScheduler } from '../queue/message-queue';
import { SQS_MAX_VISIBILITY_SECONDS } from '../queue/message-queue';
import type { QueuedAlert, RawDeadLetter } from '../queue/messages';
import { failedDeliveryMessage, QueuedAlertCodec, RawDeadLetterCodec, redrivenRawDeadLetter, undecodableMessage } from '../queue/messages';
import type { SendRateLimiter } from './rate-limit';
import type { RecoveryWatch } from './recovery-watch';
import type { RetryPolicy } from './retry-budget';
import { deferralSeconds, describeWait, retryDelaySeconds } from './retry-budget';
import type { FailureClass } from './send-outcome';
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

export interface DeliverDeps {
  readonly sink: IncidentSink;
  readonly ledger: DeliveryLedger;
  readonly deadLetters: MessageQueue;
  readonly retries: RetryScheduler;
  readonly retryPolicy: RetryPolicy;
  /** Records of one batch sent to Squadcast at once. */
  readonly concurrency: number;
  readonly log: Logger;
  readonly now: () => Date;
  readonly random?: () => number;
  /** The ceiling on POSTs to Squadcast (SQUADCAST_MAX_PER_MINUTE); none when absent. */
  readonly rateLimit?: SendRateLimiter;
  /** Squadcast priority per severity (SEVERITY_PRIORITIES); P1/P2/P3 when absent. */
  readonly priorities?: SeverityPriorities;
  /** Squadcast priority of an alert whose severity could not be read (UNKNOWN_SEVERITY_PRIORITY); the highest of `priorities` when absent. */
  readonly unknownSeverityPriority?: Priority;
  readonly metrics?: RelayMetrics;
  /** Brings this container's failed records forward when Squadcast comes back; none when absent. */
  readonly recovery?: RecoveryWatch;
  /**
   * How much of a lease a POST and its record need (SQUADCAST_TIMEOUT_MS + LEASE_MARGIN_MS): a turn
   * that comes later in the lease than that is given up, not used, so that the lease cannot run out
   * while Squadcast acts on the request. Absent: no such check (tests that do not look at it).
   */
  readonly postWindowMs?: number;
}

type ReadBody =
  | { readonly kind: 'alert'; readonly queued: QueuedAlert }
  /** A raw dead letter (ingest's non-object element, or an unreadable message), redriven by an operator. */
  | { readonly kind: 'raw-dead-letter'; readonly letter: RawDeadLetter }
  | { readonly kind: 'undecodable'; readonly problems: readonly string[] };

/** The message body, parsed once: a queued alert, a raw dead letter, or neither (with the alert's problems). */
const readBody = (body: string): ReadBody => {
  let json: unknown;
  try {
    json = parseJson(body);
  } catch {
    return { kind: 'undecodable', problems: ['(root): expected JSON'] };
  }
  const queued = decodeWith(QueuedAlertCodec, json);
  if (queued.kind === 'valid') return { kind: 'alert', queued: queued.value };
  const raw = decodeWith(RawDeadLetterCodec, json);
  return raw.kind === 'valid' ? { kind: 'raw-dead-letter', letter: raw.value } : { kind: 'undecodable', problems: queued.problems };
};

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
const waitedSeconds = (record: QueueRecord, queued: QueuedAlert | undefined, now: Date): number => {
  const since = waitedSince(record, queued);
  return Number.isNaN(since) ? 0 : Math.max(0, now.getTime() - since) / 1000;
};

/** The next attempt after a failure: backoff by the alert's age and receives, or Squadcast's Retry-After (lib/delivery/retry-budget.ts). */
const retryLater = (
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
    deps.random ?? Math.random,
    (retryAfterMs ?? 0) / 1000,
  ),
});

/** Put back without an attempt (rate ceiling, lease held elsewhere): no backoff, no give-up, only the backstop's floor. */
const deferred = (record: QueueRecord, deps: DeliverDeps, reason: string, delaySeconds: number): RecordOutcome => ({
  kind: 'deferred',
  reason,
  delaySeconds: deferralSeconds(delaySeconds, record.receiveCount, deps.retryPolicy),
});

/**
 * Delivers one record: decode, claim the alert id, POST, record. Expected outcomes are values;
 * a thrown error (DynamoDB or SQS down) means "retry later", decided in `deliverBatch`.
 */
const deliverRecord = async (record: QueueRecord, deps: DeliverDeps): Promise<RecordOutcome> => {
  const decoded = readBody(record.body);
  if (decoded.kind === 'raw-dead-letter') {
    const raw = decoded.letter;
    // An element that was never an alert, redriven: back where it was, with its own reason and path.
    const sent = await deps.deadLetters.sendAll([redrivenRawDeadLetter(raw, record.messageId)]);
    if (sent.failedKeys.length > 0) return retryLater(record, undefined, deps, 'dead-letter queue unavailable');
    deps.log.error('a dead letter that is not an alert was redriven; back to the dead-letter queue with its reason', {
      messageId: record.messageId,
      reason: raw.failure.reason,
      problems: raw.failure.problems ?? [],
    });
    return { kind: 'dead-lettered' };
  }
  if (decoded.kind === 'undecodable') {
    const sent = await deps.deadLetters.sendAll([undecodableMessage(record.messageId, record.body, decoded.problems, deps.now())]);
    if (sent.failedKeys.length > 0) return retryLater(record, undefined, deps, 'dead-letter queue unavailable');
    deps.log.error('undecodable message dead-lettered', { messageId: record.messageId, problems: decoded.problems });
    return { kind: 'dead-lettered' };
  }

  const { queued } = decoded;
  const receivedAt = new Date(queued.receivedAt ?? Number.NaN);
  const alert = readAlert(queued.alert, {
    id: queued.alertId,
    receivedAt: Number.isNaN(receivedAt.getTime()) ? deps.now() : receivedAt,
    notes: queued.notes,
  });
  const alertId = alert.id;
  const retryIn = (reason: string, retryAfterMs?: number): RecordOutcome => retryLater(record, queued, deps, reason, retryAfterMs);
  const fingerprint = fingerprintOf(queued.alert);
  const version = { alertId, fingerprint: fingerprint.value, fields: fingerprint.fields, holdMs: holdMsFor(alertId) };
  // The claim comes first: an alert already delivered must not spend a turn of the Squadcast pace.
  // The lease outlasts the longest wait for a turn plus the POST (lib/runtime/deliver-runtime.ts).
  const claim = await deps.ledger.claim(version, deps.now());
  if (claim.kind === 'already-delivered') {
    deps.log.info('alert already delivered; not sent again', { alertId });
    return { kind: 'duplicate' };
  }
  if (claim.kind === 'in-flight') {
    // Another delivery is sending it, or crashed while it held the lease: either way, look again once the lease can have run out.
    deps.log.info('another delivery holds the alert; will retry', { alertId, retryInSeconds: deps.retryPolicy.inFlightSeconds });
    return deferred(record, deps, 'another delivery holds the alert', deps.retryPolicy.inFlightSeconds);
  }

  if (claim.tookOver)
    deps.log.warn('took over a claim that ran out (a delivery crashed or stalled); if it reached Squadcast, this one pages again', {
      alertId,
    });
  const admission = (await deps.rateLimit?.admit()) ?? { kind: 'send' };
  if (admission.kind === 'later') {
    await deps.ledger.release(claim.lease).catch(() => undefined);
    return deferred(record, deps, 'rate ceiling reached', admission.delayMs / 1000);
  }
  if (deps.postWindowMs !== undefined && deps.now().getTime() + deps.postWindowMs > claim.lease.until) {
    // The turn came too late (a slow claim, a long wait): a POST now could outlast the lease.
    await deps.ledger.release(claim.lease).catch(() => undefined);
    deps.log.warn('too little of the lease left to send; will retry', { alertId, leaseLeftMs: claim.lease.until - deps.now().getTime() });
    return deferred(record, deps, 'too little of the lease left to send', 1);
  }
  const earlier =
    claim.earlier === undefined
      ? undefined
      : { deliveredAt: claim.earlier.deliveredAt, changed: changedFields(claim.earlier.fields, version.fields) };
  if (earlier !== undefined)
    deps.log.info('alert reuses the id of one delivered before; paged again', { alertId, changed: earlier.changed });

  const started = Date.now();
  const outcome = await deps.sink.send(toIncident(alert, deps.priorities, deps.unknownSeverityPriority, earlier));
  const latencyMs = Date.now() - started;
  deps.metrics?.squadcastLatency(latencyMs);
  if (outcome.kind !== 'delivered') deps.metrics?.count(FAILURE_METRIC[outcome.failure]);
  deps.recovery?.answered(outcome.kind !== 'transient', deps.now().getTime());
  switch (outcome.kind) {
    case 'delivered': {
      // From Squadcast's 2xx until `complete` returns, a crash would send this incident again:
      // `recordMs` measures that window (the other one: a request that timed out after Squadcast acted on it).
      const answered = Date.now();
      await deps.ledger.complete(claim.lease, deps.now()).catch((error: unknown) =>
        // The incident exists: retrying would page twice. The status undercounts by one.
        deps.log.error('incident delivered but not recorded', { alertId, error: (error as Error)?.name }),
      );
      const lateMs = deps.now().getTime() - claim.lease.until;
      if (lateMs > 0)
        // Another delivery of the same alert (a resent batch) may have claimed it meanwhile and sent it too.
        deps.log.warn('incident recorded after its lease ran out; a second delivery may have sent it again', { alertId, lateMs });
      deps.log.info('incident delivered', {
        alertId,
        status: outcome.status,
        latencyMs,
        recordMs: Date.now() - answered,
        receiveCount: record.receiveCount,
      });
      return { kind: 'delivered' };
    }
    case 'transient': {
      // Squadcast's Retry-After holds back every send of this container, not just this alert's.
      if (outcome.retryAfterMs !== undefined) deps.rateLimit?.pauseFor(Math.min(outcome.retryAfterMs, deps.retryPolicy.maxSeconds * 1000));
      await deps.ledger.release(claim.lease).catch(() => undefined);
      const now = deps.now();
      const waited = Math.round(waitedSeconds(record, queued, now));
      deps.metrics?.failingAlertAge(waited);
      if (waited < deps.retryPolicy.giveUpSeconds) {
        deps.log.warn('delivery failed; will retry', {
          alertId,
          reason: outcome.reason,
          latencyMs,
          receiveCount: record.receiveCount,
          waitedSeconds: waited,
        });
        return retryIn(outcome.reason, outcome.retryAfterMs);
      }
      // Only a failed attempt gives up, never a deferral: the budget is spent and a person must look.
      const reason = `${outcome.reason}; still failing after ${describeWait(waited)} in the queue (give-up budget ${describeWait(deps.retryPolicy.giveUpSeconds)})`;
      const sent = await deps.deadLetters.sendAll([failedDeliveryMessage(queued, alertId, reason, now, record.receiveCount)]);
      if (sent.failedKeys.length > 0) return retryIn('dead-letter queue unavailable');
      deps.log.error('delivery failed for too long; alert dead-lettered', { alertId, reason, waitedSeconds: waited });
      return { kind: 'dead-lettered' };
    }
    case 'permanent': {
      const sent = await deps.deadLetters.sendAll([
        failedDeliveryMessage(queued, alertId, outcome.reason, deps.now(), record.receiveCount),
      ]);
      await deps.ledger.release(claim.lease).catch(() => undefined);
      if (sent.failedKeys.length > 0) return retryIn('dead-letter queue unavailable');
      deps.log.error('delivery refused; alert dead-lettered', { alertId, reason: outcome.reason });
      return { kind: 'dead-lettered' };
    }
  }
};

const FAILURE_METRIC: Readonly<Record<FailureClass, CountMetric>> = {
  'server-error': 'failedServerError',
  throttled: 'failedThrottled',
  timeout: 'failedTimeout',
  network: 'failedNetwork',
  refused: 'failedRefused',
};

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
  for (const outcome of outcomes) deps.metrics?.count(OUTCOME_METRIC[outcome.kind]);
  const limitSeconds = visibilityLimitSeconds(batchStartMs, deps.now().getTime());
  const failures = records.flatMap((record, i) => {
    const outcome = outcomes[i];
    if (outcome?.kind !== 'retry' && outcome?.kind !== 'deferred') return [];
    return [{ record, outcome, delaySeconds: Math.min(outcome.delaySeconds, limitSeconds) }];
  });
  const clamped = failures.filter(({ outcome, delaySeconds }) => delaySeconds < outcome.delaySeconds).length;
  if (clamped > 0) {
    deps.metrics?.count('retryClamped', clamped);
    deps.log.warn('retry delays cut to what SQS allows (12 hours from the receive); those alerts come back sooner', {
      clamped,
      limitSeconds,
    });
  }
  await Promise.all(
    failures.map(({ record, delaySeconds }) =>
      deps.retries.retryAfter(record.receiptHandle, delaySeconds).catch(() => {
        // The queue's own visibility timeout still brings the record back.
      }),
    ),
  );
  await wakeParkedRecords(failures, deps);
  return { failedMessageIds: failures.map(({ record }) => record.messageId), outcomes };
};

/** Records put back after an attempt are remembered; if Squadcast has just come back, those remembered before are made visible now. */
const wakeParkedRecords = async (
  failures: ReadonlyArray<{ readonly record: QueueRecord; readonly outcome: RecordOutcome; readonly delaySeconds: number }>,
  deps: DeliverDeps,
): Promise<void> => {
  if (deps.recovery === undefined) return;
  const now = deps.now().getTime();
  const woken = deps.recovery.wake(now);
  for (const { record, outcome, delaySeconds } of failures) {
    if (outcome.kind === 'retry') deps.recovery.parked(record.receiptHandle, now + delaySeconds * 1000, now);
  }
  await mapWithConcurrency(woken, WAKE_CONCURRENCY, (receiptHandle) =>
    deps.retries.retryAfter(receiptHandle, 0).catch(() => {
      // Received again meanwhile, or deleted: it is back already.
    }),
  );
};
