import type { ReadAlert } from '../alert/read-alert';
import type { AlertVersion, ClaimResult, FailedSend, Lease } from '../ledger/ledger';
import type { OutboundMessage } from '../queue/message-queue';
import type { QueuedAlert } from '../queue/messages';
import { failedDeliveryMessage } from '../queue/messages';
import type { DeliverDeps, QueueRecord, RecordOutcome } from './record-outcome';
import { retryLater, waitedSeconds } from './record-outcome';
import { describeWait } from './retry-budget';
import type { SendOutcome } from './send-outcome';

/**
 * The last phase of a delivery attempt (lib/delivery/deliver-record.ts): what Squadcast's answer
 * makes of the record. Delivered: recorded. A transient failure: retried after the backoff, or
 * dead-lettered once the give-up budget is spent. A refusal: dead-lettered. Every move to the
 * dead-letter queue goes through `deadLetterElseRetry`.
 */

/** An alert read from its message, ready to claim and send. */
export interface Attempt {
  readonly record: QueueRecord;
  readonly queued: QueuedAlert;
  readonly alert: ReadAlert;
  readonly version: AlertVersion;
}

export type Claimed = Extract<ClaimResult, { kind: 'claimed' }>;

/** Sends one dead letter; when the dead-letter queue refuses it, the record is retried instead (it may be what is down). */
export const deadLetterElseRetry = async (
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

/** Settle a delivered incident: record it. From Squadcast's 2xx until `complete` returns, a crash would send it again. */
export const settleDelivered = async (
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
export const settleTransient = async (
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
export const settlePermanent = async (attempt: Attempt, lease: Lease, reason: string, deps: DeliverDeps): Promise<RecordOutcome> => {
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
