import { changedFields, fingerprintOf, holdMsFor } from '../alert/fingerprint';
import { readAlert } from '../alert/read-alert';
import type { CountMetric } from '../common/metrics';
import { toIncident } from '../incident/to-incident';
import type { Lease } from '../ledger/ledger';
import type { QueuedMessage } from '../queue/messages';
import { readQueuedMessage, redrivenRawDeadLetter, undecodableMessage } from '../queue/messages';
import { fitsInLease } from './lease-budget';
import type { DeliverDeps, QueueRecord, RecordOutcome } from './record-outcome';
import { deferred, retryLater, waitedSeconds } from './record-outcome';
import type { FailureClass, SendOutcome } from './send-outcome';
import type { Attempt, Claimed } from './settle';
import { deadLetterElseRetry, settleDelivered, settlePermanent, settleTransient } from './settle';

/**
 * One delivery attempt, as its phases: read the message, claim the alert id, take a turn under the
 * rate ceiling, send, settle. Each phase returns the record's outcome or hands on to the next;
 * expected outcomes are values, and a thrown error (DynamoDB or SQS down) means "retry later",
 * decided in `deliverBatch`.
 */

/** A phase's result: the record's outcome, or what the next phase needs. */
type Phase<T> = { readonly done: RecordOutcome } | { readonly next: T };

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

/**
 * Hold: while the circuit breaker is open (lib/delivery/circuit-breaker.ts) a record waits for the
 * probe, unattempted (and, when the breaker says so before the claim, unclaimed), on the schedule
 * of a failed attempt; the recovery watch brings it back when Squadcast does.
 */
const holdBack = (attempt: Attempt, failingSince: number, deps: DeliverDeps): RecordOutcome => {
  const now = deps.now();
  // The alarm on the outage reads this container's failing time while no alert's own send fails.
  deps.metrics.largest('squadcastFailingFor', Math.max(0, now.getTime() - failingSince) / 1000);
  return retryLater(attempt.record, attempt.queued, deps, HELD_BACK);
};

/** An alert whose give-up budget is spent is never held: it gets its attempt, and is dead-lettered (and told) if that fails. */
const budgetSpent = (attempt: Attempt, deps: DeliverDeps): boolean =>
  waitedSeconds(attempt.record, attempt.queued, deps.now()) >= deps.retryPolicy.giveUpSeconds;

/** The reason a held-back record is put back with. */
export const HELD_BACK = 'Squadcast failing; held back while a probe tests it';

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

/** Send: the incident, and what its answer tells the metrics, the circuit breaker and the recovery watch. */
const send = async (
  attempt: Attempt,
  claimed: Claimed,
  admission: 'send' | 'probe',
  deps: DeliverDeps,
): Promise<{ outcome: SendOutcome; latencyMs: number }> => {
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
  const answeredAt = deps.now().getTime();
  deps.breaker.answered(admission, outcome.kind !== 'transient', answeredAt);
  deps.recovery.answered(outcome.kind !== 'transient', answeredAt);
  return { outcome, latencyMs };
};

/** Delivers one record: read, hold, claim, turn, send, settle. */
export const deliverRecord = async (record: QueueRecord, deps: DeliverDeps): Promise<RecordOutcome> => {
  const read_ = await read(record, deps);
  if ('done' in read_) return read_.done;
  const attempt = read_.next;
  const mustTry = budgetSpent(attempt, deps);
  const failingSince = mustTry ? undefined : deps.breaker.holding(deps.now().getTime());
  if (failingSince !== undefined) return holdBack(attempt, failingSince, deps);
  const claimed = await claim(attempt, deps);
  if ('done' in claimed) return claimed.done;
  const { lease } = claimed.next;
  const notNow = await takeTurn(attempt, lease, deps);
  if (notNow !== undefined) return notNow;
  // Several records may have found the probe due: one takes it, the others give their claim back and wait.
  const admission = mustTry ? 'send' : deps.breaker.admit(deps.now().getTime());
  if (typeof admission === 'object') {
    await deps.ledger.release(lease).catch(() => undefined);
    return holdBack(attempt, admission.failingSince, deps);
  }
  const { outcome, latencyMs } = await send(attempt, claimed.next, admission, deps);
  switch (outcome.kind) {
    case 'delivered':
      return settleDelivered(attempt, lease, outcome.status, latencyMs, deps);
    case 'transient':
      return settleTransient(attempt, claimed.next, outcome, latencyMs, deps);
    case 'permanent':
      return settlePermanent(attempt, lease, outcome.reason, deps);
  }
};
