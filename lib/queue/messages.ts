import * as t from 'io-ts';
import type { RejectedAlert } from '../alert/decode-webhook';
import type { AlertIssue } from '../alert/read-alert';
import { isDocumentedField, readAlert } from '../alert/read-alert';
import { decodeWith } from '../common/checked';
import { parseJson } from '../common/json';
import { truncate } from '../common/text';
import type { OutboundMessage } from './message-queue';

/**
 * The one module that owns every message the relay puts on a queue: the alert on the alerts
 * queue and every kind of dead letter. Each has one codec, one builder and one size rule here;
 * ingest, deliver, the test alert and `npm run redrive` all import them.
 */

/**
 * The largest message body SQS accepts (256 KiB), which is also the limit of a whole
 * SendMessageBatch call. A body over it is refused, and a refused dead letter would make its
 * sender retry forever, so every builder here stays within it.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export const messageBytes = (message: OutboundMessage): number => Buffer.byteLength(message.body, 'utf8');

/**
 * SQS accepts only #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF in a
 * body and refuses the message otherwise, which would make ingest answer 503 for that batch forever.
 * JSON.stringify already escapes control characters and lone surrogates; it leaves U+FFFE and U+FFFF
 * as they are. Those are written as \u escapes here, and so are characters beyond U+FFFF, which the
 * local SQS emulator (fauxqs) refuses. The JSON means exactly the same thing.
 */
const OUTSIDE_SQS_SAFE_SET = /[\uFFFE\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

const escapeUnits = (text: string): string =>
  Array.from({ length: text.length }, (_, i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');

/** JSON text that SQS (and its local emulator) accepts as a message body. */
export const toSqsBody = (value: unknown): string => (JSON.stringify(value) ?? 'null').replace(OUTSIDE_SQS_SAFE_SET, escapeUnits);

/** Why a message is in the dead-letter queue. `attempts`: how many times deliver had received it by then. */
export const FailureCodec = t.intersection([
  t.type({ stage: t.keyof({ ingest: null, deliver: null }), reason: t.string, at: t.string }),
  t.partial({ problems: t.array(t.string), attempts: t.number }),
]);
export type Failure = t.TypeOf<typeof FailureCodec>;

const AlertIssueCodec = t.type({ field: t.string, problem: t.string });

/** Any JSON object (not an array): every one is an alert, read leniently by deliver. */
const AlertObjectCodec = new t.Type<Record<string, unknown>, Record<string, unknown>, unknown>(
  'object',
  t.UnknownRecord.is,
  t.UnknownRecord.validate,
  t.identity,
);

/**
 * The body of a message on the alerts queue: the alert object as received (unknown fields kept,
 * whatever its fields hold), the id ingest chose for it, and what ingest had to do to it. A
 * dead-lettered delivery keeps the same shape plus `failure`, so a redrive to the alerts queue is
 * delivered again as is. Messages queued before `alertId` and `notes` existed hold a valid alert
 * and still decode: their id is the alert's own.
 */
export const QueuedAlertCodec = t.intersection([
  t.type({ alert: AlertObjectCodec }),
  t.partial({
    alertId: t.string,
    receivedAt: t.string,
    notes: t.array(AlertIssueCodec),
    failure: FailureCodec,
    /** The failures of earlier trips through the dead-letter queue (each redrive keeps the one before). */
    earlierFailures: t.array(FailureCodec),
  }),
]);
export type QueuedAlert = t.TypeOf<typeof QueuedAlertCodec>;

/**
 * A dead letter that holds something that is not a queued alert: an element of a batch that is not
 * an object, or a message deliver could not read. `raw` is what was received (cut to fit); a
 * redrive cannot deliver it as it is.
 */
export const RawDeadLetterCodec = t.intersection([
  t.type({ failure: FailureCodec, raw: t.unknown }),
  /** How many times it was redriven and came straight back (it cannot be delivered as it is). */
  t.partial({ redrives: t.number }),
]);
export type RawDeadLetter = t.TypeOf<typeof RawDeadLetterCodec>;

/**
 * A message of either queue, read once: a queued alert (a dead-lettered one too), a raw dead letter
 * (something that never was an alert), or neither (with the alert codec's problems). The one
 * vocabulary deliver and the dead-letter tools use.
 */
export type QueuedMessage =
  | { readonly kind: 'alert'; readonly queued: QueuedAlert }
  | { readonly kind: 'not an alert'; readonly letter: RawDeadLetter }
  | { readonly kind: 'unreadable'; readonly problems: readonly string[] };

export const readQueuedMessage = (body: string): QueuedMessage => {
  let json: unknown;
  try {
    json = parseJson(body);
  } catch {
    return { kind: 'unreadable', problems: ['(root): expected JSON'] };
  }
  const queued = decodeWith(QueuedAlertCodec, json);
  if (queued.kind === 'valid') return { kind: 'alert', queued: queued.value };
  const raw = decodeWith(RawDeadLetterCodec, json);
  return raw.kind === 'valid' ? { kind: 'not an alert', letter: raw.value } : { kind: 'unreadable', problems: queued.problems };
};

/** What ingest (or the test alert) queues: an alert object, its id, and what was done to it. */
export interface AlertToQueue {
  readonly id: string;
  readonly alert: Readonly<Record<string, unknown>>;
  readonly notes?: readonly AlertIssue[];
}

export interface QueuedAlertMessage extends OutboundMessage {
  /** Fields shortened (or left out) so that the alert fits one message: the alert pages degraded. */
  readonly shortenedFields: number;
}

/** A queued alert leaves room for the `failure` deliver adds when it dead-letters it. */
export const MAX_QUEUED_ALERT_BYTES = MAX_MESSAGE_BYTES - 4 * 1024;

const fitsQueuedAlert = (body: string): boolean => Buffer.byteLength(body, 'utf8') <= MAX_QUEUED_ALERT_BYTES;

/**
 * The alert's message. An alert too large for one message is not refused: its largest fields are
 * shortened to one common length, the longest that fits, each with a note saying so; if even that
 * is too much (thousands of fields), only the documented fields are kept and the rest is counted.
 */
export const queuedAlertMessage = (entry: AlertToQueue, receivedAt: Date): QueuedAlertMessage => {
  const encode = (alert: Readonly<Record<string, unknown>>, notes: readonly AlertIssue[]): string =>
    toSqsBody({
      alert,
      alertId: entry.id,
      receivedAt: receivedAt.toISOString(),
      ...(notes.length > 0 ? { notes: [...notes] } : {}),
    } satisfies QueuedAlert);
  const carried = entry.notes ?? [];
  const whole = encode(entry.alert, carried);
  if (fitsQueuedAlert(whole)) return { key: entry.id, body: whole, shortenedFields: 0 };

  const shorten = (fields: ReadonlyArray<readonly [string, unknown]>, extraNotes: readonly AlertIssue[]) => {
    const texts = fields.map(([, value]) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null')));
    const attempt = (maxChars: number) => {
      const notes = [...carried, ...extraNotes];
      const alert = Object.fromEntries(
        fields.map(([key, value], i) => {
          const text = texts[i] ?? '';
          const cut = truncate(text, maxChars);
          if (cut === text) return [key, value];
          notes.push({ field: truncate(key, 100), problem: `shortened from ${text.length} characters to fit one queue message` });
          return [key, cut];
        }),
      );
      return { body: encode(alert, notes), shortened: notes.length - carried.length };
    };
    const longest = texts.reduce((most, text) => Math.max(most, text.length), 0);
    const uncut = attempt(longest);
    if (fitsQueuedAlert(uncut.body)) return uncut;
    // The largest cut that fits: the body only grows with maxChars.
    let fits = 0;
    let tooLong = longest;
    while (tooLong - fits > 1) {
      const mid = Math.floor((fits + tooLong) / 2);
      if (fitsQueuedAlert(attempt(mid).body)) fits = mid;
      else tooLong = mid;
    }
    return attempt(fits);
  };

  const shortened = shorten(Object.entries(entry.alert), []);
  if (fitsQueuedAlert(shortened.body)) return { key: entry.id, body: shortened.body, shortenedFields: shortened.shortened };
  const documented = Object.entries(entry.alert).filter(([key]) => isDocumentedField(key));
  const left = Object.keys(entry.alert).length - documented.length;
  const kept = shorten(documented, [{ field: '(other fields)', problem: `${left} fields left out to fit one queue message` }]);
  return { key: entry.id, body: kept.body, shortenedFields: kept.shortened };
};

/** A delivery that failed for good: the queued alert as it was, the failure, and any failure of an earlier trip kept. */
export const failedDeliveryMessage = (
  queued: QueuedAlert,
  alertId: string,
  reason: string,
  at: Date,
  attempts?: number,
): OutboundMessage => {
  const earlierFailures = [...(queued.earlierFailures ?? []), ...(queued.failure === undefined ? [] : [queued.failure])];
  return {
    key: alertId,
    body: toSqsBody({
      ...queued,
      failure: { stage: 'deliver', reason, at: at.toISOString(), ...(attempts === undefined ? {} : { attempts }) },
      ...(earlierFailures.length > 0 ? { earlierFailures } : {}),
    } satisfies QueuedAlert),
  };
};

/** A raw dead letter redriven to the alerts queue: back to the dead-letter queue as it was, its first reason kept. */
export const redrivenRawDeadLetter = (letter: RawDeadLetter, key: string): OutboundMessage => ({
  key,
  body: toSqsBody({ ...letter, redrives: (letter.redrives ?? 0) + 1 } satisfies RawDeadLetter),
});

/** Where a raw dead letter starts cutting: well under the limit, so that one cut usually suffices. */
const MAX_RAW_CHARS = 200_000;

/**
 * A raw dead letter that fits one message: `raw` is kept as is when it fits, otherwise its JSON
 * text is cut (and says so). Escapes and multi-byte characters can take several bytes a character,
 * so the cut is halved until the whole body fits.
 */
const rawDeadLetterMessage = (key: string, failure: Failure, raw: unknown): OutboundMessage => {
  const encode = (value: unknown): string => toSqsBody({ failure, raw: value } satisfies RawDeadLetter);
  const whole = encode(raw);
  if (Buffer.byteLength(whole, 'utf8') <= MAX_MESSAGE_BYTES) return { key, body: whole };
  const text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? 'undefined');
  const cut = (chars: number): string => `${text.slice(0, chars)}…(truncated from ${text.length} characters)`;
  let chars = Math.min(text.length, MAX_RAW_CHARS);
  let body = encode(cut(chars));
  while (Buffer.byteLength(body, 'utf8') > MAX_MESSAGE_BYTES && chars > 0) {
    chars = Math.floor(chars / 2);
    body = encode(cut(chars));
  }
  return { key, body };
};

/** An element of a webhook batch that is not an alert, with its problems, for the dead-letter queue. */
export const rejectedAlertMessage = (rejected: RejectedAlert, at: Date): OutboundMessage =>
  rawDeadLetterMessage(
    `rejected-${rejected.index}`,
    { stage: 'ingest', reason: 'invalid alert', problems: [...rejected.problems], at: at.toISOString() },
    rejected.raw,
  );

/** A message on the alerts queue that deliver cannot read: its body is kept as a string. */
export const undecodableMessage = (messageId: string, body: string, problems: readonly string[], at: Date): OutboundMessage =>
  rawDeadLetterMessage(messageId, { stage: 'deliver', reason: 'undecodable message', problems: [...problems], at: at.toISOString() }, body);

/** The id deliver keeps a queued alert under in the ledger (as deliver reads it); undefined for a message that holds no alert. */
export const queuedAlertId = (body: string): string | undefined => {
  const read = readQueuedMessage(body);
  return read.kind === 'alert' ? readAlert(read.queued.alert, { id: read.queued.alertId, receivedAt: new Date() }).id : undefined;
};
