import * as t from 'io-ts';
import { AlertCodec } from '../alert/codec';
import type { Alert } from '../alert/codec';
import type { RejectedAlert } from '../alert/decode-webhook';
import { MAX_MESSAGE_BYTES } from './chunk';
import type { OutboundMessage } from './message-queue';
import { toSqsBody } from './sqs-body';

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
  body: toSqsBody({ alert, receivedAt: receivedAt.toISOString() } satisfies QueuedAlert),
});

export const rejectedAlertMessage = (rejected: RejectedAlert, at: Date): OutboundMessage => {
  const raw = JSON.stringify(rejected.raw) ?? 'undefined';
  const failure: Failure = { stage: 'ingest', reason: 'invalid alert', problems: [...rejected.problems], at: at.toISOString() };
  const encode = (value: unknown): string => toSqsBody({ failure, raw: value });
  const cut = (chars: number): string => `${raw.slice(0, chars)}…(truncated from ${raw.length} characters)`;
  let chars = Math.min(raw.length, MAX_RAW_CHARS);
  let body = encode(raw.length > MAX_RAW_CHARS ? cut(chars) : rejected.raw);
  // Escapes and multi-byte characters can take several bytes a character: cut until it fits
  // one message, or the queue refuses it and the webhook answers 503 for that batch forever.
  while (Buffer.byteLength(body, 'utf8') > MAX_MESSAGE_BYTES && chars > 0) {
    chars = Math.floor(chars / 2);
    body = encode(cut(chars));
  }
  return { key: `rejected-${rejected.index}`, body };
};

export const failedDeliveryMessage = (queued: QueuedAlert, reason: string, at: Date): OutboundMessage => ({
  key: queued.alert.id,
  body: toSqsBody({ ...queued, failure: { stage: 'deliver', reason, at: at.toISOString() } } satisfies QueuedAlert),
});
