import { readAlert } from '../alert/read-alert';
import { backoffWithJitter } from '../common/backoff';
import type { Checked } from '../common/checked';
import { decodeWith, invalid } from '../common/checked';
import { mapWithConcurrency } from '../common/concurrency';
import type { Logger } from '../common/logger';
import type { CountMetric, RelayMetrics } from '../common/metrics';
import type { Priority, SeverityPriorities } from '../incident/to-incident';
import { toIncident } from '../incident/to-incident';
import type { DeliveryLedger } from '../ledger/ledger';
import type { MessageQueue, RetryScheduler } from '../queue/message-queue';
import type { QueuedAlert } from '../queue/messages';
import { failedDeliveryMessage, QueuedAlertCodec, undecodableMessage } from '../queue/messages';
import type { SendRateLimiter } from './rate-limit';
import type { IncidentSink } from './squadcast-sink';

/** One received message, independent of the Lambda event's shape. */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
  readonly receiptHandle: string;
  /** SQS `ApproximateReceiveCount`: 1 on the first attempt. */
  readonly receiveCount: number;
}

export type RecordOutcome =
  | { readonly kind: 'delivered' | 'duplicate' | 'dead-lettered' }
  | { readonly kind: 'retry'; readonly reason: string; readonly delaySeconds: number };

export interface RetryPolicy {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
  /** How long to wait when another delivery of the same alert holds the lease. */
  readonly inFlightSeconds: number;
}

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
}

const decodeRecord = (body: string): Checked<QueuedAlert> => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return invalid('(root): expected JSON');
  }
  return decodeWith(QueuedAlertCodec, json);
};

/**
 * The next attempt, by exponential backoff on the record's receive count. Retry-After is honoured
 * up to the policy's ceiling: a bogus "come back in a year" must not park an alert.
 */
const retryLater = (record: QueueRecord, deps: DeliverDeps, reason: string, retryAfterMs?: number): RecordOutcome => {
  const maxMs = deps.retryPolicy.maxSeconds * 1000;
  const backoffMs = backoffWithJitter(record.receiveCount, deps.retryPolicy.baseSeconds * 1000, maxMs, deps.random);
  return { kind: 'retry', reason, delaySeconds: Math.max(Math.min(retryAfterMs ?? 0, maxMs), backoffMs) / 1000 };
};

/**
 * Delivers one record: decode, claim the alert id, POST, record. Expected outcomes are values;
 * a thrown error (DynamoDB or SQS down) means "retry later", decided in `deliverBatch`.
 */
const deliverRecord = async (record: QueueRecord, deps: DeliverDeps): Promise<RecordOutcome> => {
  const retryIn = (reason: string, retryAfterMs?: number): RecordOutcome => retryLater(record, deps, reason, retryAfterMs);
  const decoded = decodeRecord(record.body);
  if (decoded.kind === 'invalid') {
    const sent = await deps.deadLetters.sendAll([undecodableMessage(record.messageId, record.body, decoded.problems, deps.now())]);
    if (sent.failedKeys.length > 0) return retryIn('dead-letter queue unavailable');
    deps.log.error('undecodable message dead-lettered', { messageId: record.messageId, problems: decoded.problems });
    return { kind: 'dead-lettered' };
  }

  const queued = decoded.value;
  const receivedAt = new Date(queued.receivedAt ?? Number.NaN);
  const alert = readAlert(queued.alert, {
    id: queued.alertId,
    receivedAt: Number.isNaN(receivedAt.getTime()) ? deps.now() : receivedAt,
    notes: queued.notes,
  });
  const alertId = alert.id;
  // The turn is taken before the claim, so that waiting for it never eats into the lease.
  const admission = (await deps.rateLimit?.admit()) ?? { kind: 'send' };
  if (admission.kind === 'later') return { kind: 'retry', reason: 'rate ceiling reached', delaySeconds: admission.delayMs / 1000 };
  const claim = await deps.ledger.claim(alertId, deps.now());
  if (claim.kind === 'already-delivered') {
    deps.log.info('alert already delivered; not sent again', { alertId });
    return { kind: 'duplicate' };
  }
  if (claim.kind === 'in-flight') {
    // Another delivery is sending it, or crashed while it held the lease: either way, look again once the lease can have run out.
    deps.log.info('another delivery holds the alert; will retry', { alertId, retryInSeconds: deps.retryPolicy.inFlightSeconds });
    return { kind: 'retry', reason: 'another delivery holds the alert', delaySeconds: deps.retryPolicy.inFlightSeconds };
  }

  const started = Date.now();
  const outcome = await deps.sink.send(toIncident(alert, deps.priorities, deps.unknownSeverityPriority));
  const latencyMs = Date.now() - started;
  deps.metrics?.squadcastLatency(latencyMs);
  switch (outcome.kind) {
    case 'delivered': {
      // From Squadcast's 2xx until `complete` returns, a crash would send this incident again:
      // `recordMs` measures that window (the other one: a request that timed out after Squadcast acted on it).
      const answered = Date.now();
      await deps.ledger.complete(claim.lease, deps.now()).catch((error: unknown) =>
        // The incident exists: retrying would page twice. The status undercounts by one.
        deps.log.error('incident delivered but not recorded', { alertId, error: (error as Error)?.name }),
      );
      deps.log.info('incident delivered', {
        alertId,
        status: outcome.status,
        latencyMs,
        recordMs: Date.now() - answered,
        receiveCount: record.receiveCount,
      });
      return { kind: 'delivered' };
    }
    case 'transient':
      // Squadcast's Retry-After holds back every send of this container, not just this alert's.
      if (outcome.retryAfterMs !== undefined) deps.rateLimit?.pauseFor(Math.min(outcome.retryAfterMs, deps.retryPolicy.maxSeconds * 1000));
      await deps.ledger.release(claim.lease).catch(() => undefined);
      deps.log.warn('delivery failed; will retry', { alertId, reason: outcome.reason, latencyMs, receiveCount: record.receiveCount });
      return retryIn(outcome.reason, outcome.retryAfterMs);
    case 'permanent': {
      const sent = await deps.deadLetters.sendAll([failedDeliveryMessage(queued, alertId, outcome.reason, deps.now())]);
      await deps.ledger.release(claim.lease).catch(() => undefined);
      if (sent.failedKeys.length > 0) return retryIn('dead-letter queue unavailable');
      deps.log.error('delivery refused; alert dead-lettered', { alertId, reason: outcome.reason });
      return { kind: 'dead-lettered' };
    }
  }
};

const OUTCOME_METRIC: Readonly<Record<RecordOutcome['kind'], CountMetric>> = {
  delivered: 'delivered',
  duplicate: 'duplicate',
  'dead-lettered': 'deadLettered',
  retry: 'retried',
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
  const outcomes = await mapWithConcurrency(records, deps.concurrency, (record) =>
    deliverRecord(record, deps).catch((error: unknown): RecordOutcome => {
      deps.log.error('delivery step failed; will retry', { messageId: record.messageId, error: (error as Error)?.name ?? 'unknown' });
      // Backed off like a Squadcast outage: a fixed delay would exhaust maxReceiveCount in minutes.
      return retryLater(record, deps, 'dependency error');
    }),
  );
  for (const outcome of outcomes) deps.metrics?.count(OUTCOME_METRIC[outcome.kind]);
  const failures = records.flatMap((record, i) => {
    const outcome = outcomes[i];
    return outcome?.kind === 'retry' ? [{ record, outcome }] : [];
  });
  await Promise.all(
    failures.map(({ record, outcome }) =>
      deps.retries.retryAfter(record.receiptHandle, outcome.delaySeconds).catch(() => {
        // The queue's own visibility timeout still brings the record back.
      }),
    ),
  );
  return { failedMessageIds: failures.map(({ record }) => record.messageId), outcomes };
};
