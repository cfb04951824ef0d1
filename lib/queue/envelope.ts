import * as t from 'io-ts';
import { AlertCodec } from '../alert/codec';
import type { Alert } from '../alert/codec';
import type { RejectedAlert } from '../alert/decode-webhook';
import type { OutboundMessage } from './message-queue';

/** Why a message is in the dead-letter queue. */
const FailureCodec = t.intersection([
  t.type({ stage: t.keyof({ ingest: null, deliver: null }), reason: t.string, at: t.string }),
  t.partial({ problems: t.array(t.string) }),
]);
export type Failure = t.TypeOf<typeof FailureCodec>;

/**
 * The body of a message on the alerts queue: the decoded alert, unknown fields kept.
 * A dead-lettered delivery keeps the same shape plus `failure`, so a redrive to the
 * alerts queue is delivered again as is.
 */
export const QueuedAlertCodec = t.intersection([
  t.type({ alert: AlertCodec }),
  t.partial({ receivedAt: t.string, failure: FailureCodec }),
]);
export type QueuedAlert = t.TypeOf<typeof QueuedAlertCodec>;

/** Cut a raw rejected alert down so that its dead letter stays within one SQS message. */
const MAX_RAW_CHARS = 200_000;

export const queuedAlertMessage = (alert: Alert, receivedAt: Date): OutboundMessage => ({
  key: alert.id,
  body: JSON.stringify({ alert, receivedAt: receivedAt.toISOString() } satisfies QueuedAlert),
});

export const rejectedAlertMessage = (rejected: RejectedAlert, at: Date): OutboundMessage => {
  const raw = JSON.stringify(rejected.raw) ?? 'undefined';
  const failure: Failure = { stage: 'ingest', reason: 'invalid alert', problems: [...rejected.problems], at: at.toISOString() };
  return {
    key: `rejected-${rejected.index}`,
    body: JSON.stringify({
      failure,
      raw: raw.length > MAX_RAW_CHARS ? `${raw.slice(0, MAX_RAW_CHARS)}…(truncated from ${raw.length} characters)` : rejected.raw,
    }),
  };
};

export const failedDeliveryMessage = (queued: QueuedAlert, reason: string, at: Date): OutboundMessage => ({
  key: queued.alert.id,
  body: JSON.stringify({ ...queued, failure: { stage: 'deliver', reason, at: at.toISOString() } } satisfies QueuedAlert),
});
