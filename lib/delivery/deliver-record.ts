import { changedFields, fingerprintOf, holdMsFor } from '../alert/fingerprint';
import type { ReadAlert } from '../alert/read-alert';
import { readAlert } from '../alert/read-alert';
import type { CountMetric } from '../common/metrics';
import { toIncident } from '../incident/to-incident';
import type { AlertVersion, ClaimResult, FailedSend, Lease } from '../ledger/ledger';
import type { OutboundMessage } from '../queue/message-queue';
import type { QueuedAlert, QueuedMessage } from '../queue/messages';
import { failedDeliveryMessage, readQueuedMessage, redrivenRawDeadLetter, undecodableMessage } from '../queue/messages';
import { fitsInLease } from './lease-budget';
import type { DeliverDeps, QueueRecord, RecordOutcome } from './record-outcome';
import { deferred, retryLater, waitedSeconds } from './record-outcome';
import { describeWait } from './retry-budget';
import type { FailureClass, SendOutcome } from './send-outcome';

/**
 * One delivery attempt, as its phases: read the message, claim the alert id, take a turn under the
 * rate ceiling, send, settle. Each phase returns the record's outcome or hands on to the next;
 * expected outcomes are values, and a thrown error (DynamoDB or SQS down) means "retry later",
 * decided in `deliverBatch`.
 */

/** An alert read from its message, ready to claim and send. */
interface Attempt {
  readonly record: QueueRecord;
  readonly queued: QueuedAlert;
  readonly alert: ReadAlert;
  readonly version: AlertVersion;
}

type Claimed = Extract<ClaimResult, { kind: 'claimed' }>;

/** A phase's result: the record's outcome, or what the next phase needs. */
type Phase<T> = { readonly done: RecordOutcome } | { readonly next: T };

/** Sends one dead letter; when the dead-letter queue refuses it, the record is retried instead (it may be what is down). */
const deadLetterElseRetry = async (
  message: OutboundMessage,
  deps: DeliverDeps,
  retry: () => RecordOutcome,
  told: () => void,
): Promise<RecordOutcome> => {
  const sent = await deps.deadLetters.sendAll([message]);
  if (sent.failedKeys.length > 0) return retry();
  told();
  return { kind: 'dead-lettered' };
};

/** Read: a message that holds no alert goes (back) to the dead-letter queue with its reason. */
const read = async (record: QueueRecord, deps: DeliverDeps): Promise<Phase<Attempt>> => {
  const message: QueuedMessage = readQueuedMessage(record.body);
  const retry = () => retryLater(record, undefined, deps, 'dead-letter queue unavailable');
  if (message.kind === 'not an alert') {
    const { letter } = message;
    // An element that was never an alert, redriven: back where it was, with its own reason and path.
    return {
      done: await deadLetterElseRetry(redrivenRawDeadLetter(letter, record.messageId), deps, retry, () =>
        deps.log.error('a dead letter that is not an alert was redriven; back to the dead-letter queue with its reason', {
          messageId: record.messageId,
          reason: letter.failure.reason,
          problems: letter.failure.problems ?? [],
        }),
      ),
    };
  }
  if (message.kind === 'unreadable') {
    const dead = undecodableMessage(record.messageId, record.body, message.problems, deps.now());
    return {
      done: await deadLetterElseRetry(dead, deps, retry, () =>
        deps.log.error('undecodable message dead-lettered', { messageId: record.messageId, problems: message.problems }),
      ),
    };
  }
  const { queued } = message;
  const receivedAt = new Date(queued.receivedAt ?? Number.NaN);
  const alert = readAlert(queued.alert, {
    id: queued.alertId,
    receivedAt: Number.isNaN(receivedAt.getTime()) ? deps.now() : receivedAt,
    notes: queued.notes,
  });
  const fingerprint = fingerprintOf(queued.alert);
  const version = { alertId: alert.id, fingerprint: fingerprint.value, fields: fingerprint.fields, holdMs: holdMsFor(alert.id) };
  return { next: { record, queued, alert, version } };
};

/** Claim: the claim comes first, so that an alert already delivered never spends a turn of the Squadcast pace. */
const claim = async (attempt: Attempt, deps: DeliverDeps): Promise<Phase<Claimed>> => {
  const { alertId } = attempt.version;
  const claimed = await deps.ledger.claim(attempt.version, deps.now());
  if (claimed.kind === 'already-delivered') {
    deps.log.info('alert already delivered; not sent again', { alertId });
    return { done: { kind: 'duplicate' } };
  }
  if (claimed.kind === 'in-flight') {
    // Another delivery is sending it, or crashed while it held the lease: either way, look again once the lease can have run out.
    deps.log.info('another delivery holds the alert; will retry', { alertId, retryInSeconds: deps.retryPolicy.inFlightSeconds });
    return { done: deferred(attempt.record, deps, 'another delivery holds the alert', deps.retryPolicy.inFlightSeconds) };
  }
  if (claimed.tookOver)
    deps.log.warn('took over a claim that ran out (a delivery crashed or stalled); if it reached Squadcast, this one pages again', {
      alertId,
    });
  return { next: claimed };
};

/** Turn: wait for the rate ceiling, and send only with enough of the lease left for the POST and its record. */
const takeTurn = async (attempt: Attempt, lease: Lease, deps: DeliverDeps): Promise<RecordOutcome | undefined> => {
  const admission = await deps.rateLimit.admit();
  if (admission.kind === 'later') {
    await deps.ledger.release(lease).catch(() => undefined);
    return deferred(attempt.record, deps, 'rate ceiling reached', admission.delayMs / 1000);
  }
  if (!fitsInLease(lease.until, deps.now().getTime(), deps.postWindowMs)) {
    // The turn came too late (a slow claim, a long wait): a POST now could outlast the lease.
    await deps.ledger.release(lease).catch(() => undefined);
    deps.log.warn('too little of the lease left to send; will retry', {
      alertId: attempt.version.alertId,
      leaseLeftMs: lease.until - deps.now().getTime(),
    });
    return deferred(attempt.record, deps, 'too little of the lease left to send', 1);
  }
  return undefined;
};

const FAILURE_METRIC: Readonly<Record<FailureClass, CountMetric>> = {
  'server-error': 'failedServerError',
  throttled: 'failedThrottled',
  timeout: 'failedTimeout',
  network: 'failedNetwork',
  refused: 'failedRefused',
};

/** How much of a version's fingerprint a later version's event_id carries: 48 bits, no clash among an id's versions. */
const VERSION_DIGITS = 12;

/** Send: the incident, and what its answer tells the metrics and the recovery watch. */
const send = async (attempt: Attempt, claimed: Claimed, deps: DeliverDeps): Promise<{ outcome: SendOutcome; latencyMs: number }> => {
  const { alertId } = attempt.version;
  const earlier =
    claimed.earlier === undefined
      ? undefined
      : {
          deliveredAt: claimed.earlier.deliveredAt,
          changed: changedFields(claimed.earlier.fields, attempt.version.fields),
          version: attempt.version.fingerprint.slice(0, VERSION_DIGITS),
        };
  if (earlier !== undefined)
    deps.log.info('alert reuses the id of one delivered before; paged again', { alertId, changed: earlier.changed });
  const started = Date.now();
  const outcome = await deps.sink.send(toIncident(attempt.alert, deps.priorities, deps.unknownSeverityPriority, earlier));
  const latencyMs = Date.now() - started;
  deps.metrics.squadcastLatency(latencyMs);
  if (outcome.kind !== 'delivered') deps.metrics.count(FAILURE_METRIC[outcome.failure]);
  deps.recovery.answered(outcome.kind !== 'transient', deps.now().getTime());
  return { outcome, latencyMs };
};

/** Settle a delivered incident: record it. From Squadcast's 2xx until `complete` returns, a crash would send it again. */
const settleDelivered = async (
  attempt: Attempt,
  lease: Lease,
  status: number,
  latencyMs: number,
  deps: DeliverDeps,
): Promise<RecordOutcome> => {
  const { alertId } = attempt.version;
  const answered = Date.now();
  await deps.ledger.complete(lease, deps.now()).catch((error: unknown) =>
    // The incident exists: retrying would page twice. The status undercounts by one.
    deps.log.error('incident delivered but not recorded', { alertId, error: (error as Error)?.name }),
  );
  const lateMs = deps.now().getTime() - lease.until;
  if (lateMs > 0)
    // Another delivery of the same alert (a resent batch) may have claimed it meanwhile and sent it too.
    deps.log.warn('incident recorded after its lease ran out; a second delivery may have sent it again', { alertId, lateMs });
  deps.log.info('incident delivered', {
    alertId,
    status,
    latencyMs,
    recordMs: Date.now() - answered,
    receiveCount: attempt.record.receiveCount,
  });
  return { kind: 'delivered' };
};

/** Settle a transient failure: retry after the backoff, or, once the give-up budget is spent, dead-letter it. */
const settleTransient = async (
  attempt: Attempt,
  claimed: Claimed,
  outcome: Extract<SendOutcome, { kind: 'transient' }>,
  latencyMs: number,
  deps: DeliverDeps,
): Promise<RecordOutcome> => {
  const { record, queued } = attempt;
  const { alertId } = attempt.version;
  // Squadcast's Retry-After holds back every send of this container, not just this alert's.
  if (outcome.retryAfterMs !== undefined) deps.rateLimit.pauseFor(Math.min(outcome.retryAfterMs, deps.retryPolicy.maxSeconds * 1000));
  const now = deps.now();
  const waited = Math.round(waitedSeconds(record, queued, now));
  // From its first failed send, not from when it was queued: one failure after a long wait is no outage.
  deps.metrics.largest('squadcastFailingFor', (now.getTime() - (claimed.failingSince ?? now).getTime()) / 1000);
  const retry = (reason: string, retryAfterMs?: number) => retryLater(record, queued, deps, reason, retryAfterMs);
  if (waited < deps.retryPolicy.giveUpSeconds) {
    await deps.ledger.release(claimed.lease, { at: now, reason: outcome.reason }).catch(() => undefined);
    deps.log.warn('delivery failed; will retry', {
      alertId,
      reason: outcome.reason,
      latencyMs,
      receiveCount: record.receiveCount,
      waitedSeconds: waited,
    });
    return retry(outcome.reason, outcome.retryAfterMs);
  }
  // Only a failed attempt gives up, never a deferral: the budget is spent and a person must look.
  const reason = `${outcome.reason}; still failing after ${describeWait(waited)} in the queue (give-up budget ${describeWait(deps.retryPolicy.giveUpSeconds)})`;
  const settled = await deadLetterElseRetry(
    failedDeliveryMessage(queued, alertId, reason, now, record.receiveCount),
    deps,
    () => retry('dead-letter queue unavailable'),
    () => deps.log.error('delivery failed for too long; alert dead-lettered', { alertId, reason, waitedSeconds: waited }),
  );
  await releaseAfter(settled, claimed.lease, { at: now, reason }, deps);
  return settled;
};

/** Gives the lease up after a failed send: dead-lettered (its failing time ends there), or failing still. */
const releaseAfter = (settled: RecordOutcome, lease: Lease, failure: FailedSend, deps: DeliverDeps): Promise<void> =>
  deps.ledger.release(lease, { ...failure, deadLettered: settled.kind === 'dead-lettered' }).catch(() => undefined);

/** Settle a refusal (4xx): it will not change on retry, so the alert is dead-lettered with the reason. */
const settlePermanent = async (attempt: Attempt, lease: Lease, reason: string, deps: DeliverDeps): Promise<RecordOutcome> => {
  const { record, queued } = attempt;
  const { alertId } = attempt.version;
  const now = deps.now();
  const settled = await deadLetterElseRetry(
    failedDeliveryMessage(queued, alertId, reason, now, record.receiveCount),
    deps,
    () => retryLater(record, queued, deps, 'dead-letter queue unavailable'),
    () => deps.log.error('delivery refused; alert dead-lettered', { alertId, reason }),
  );
  await releaseAfter(settled, lease, { at: now, reason }, deps);
  return settled;
};

/** Delivers one record: read, claim, turn, send, settle. */
export const deliverRecord = async (record: QueueRecord, deps: DeliverDeps): Promise<RecordOutcome> => {
  const read_ = await read(record, deps);
  if ('done' in read_) return read_.done;
  const attempt = read_.next;
  const claimed = await claim(attempt, deps);
  if ('done' in claimed) return claimed.done;
  const { lease } = claimed.next;
  const notNow = await takeTurn(attempt, lease, deps);
  if (notNow !== undefined) return notNow;
  const { outcome, latencyMs } = await send(attempt, claimed.next, deps);
  switch (outcome.kind) {
    case 'delivered':
      return settleDelivered(attempt, lease, outcome.status, latencyMs, deps);
    case 'transient':
      return settleTransient(attempt, claimed.next, outcome, latencyMs, deps);
    case 'permanent':
      return settlePermanent(attempt, lease, outcome.reason, deps);
  }
};
