import { readAlert } from '../../../lib/alert/read-alert';
import { decodeWith } from '../../../lib/common/checked';
import {
  failedDeliveryMessage,
  MAX_MESSAGE_BYTES,
  MAX_QUEUED_ALERT_BYTES,
  messageBytes,
  QueuedAlertCodec,
  queuedAlertMessage,
  RawDeadLetterCodec,
  rejectedAlertMessage,
  toSqsBody,
  undecodableMessage,
} from '../../../lib/queue/messages';
import { anAlert, aRawAlert } from '../../helpers/factories';

const AT = new Date('2023-11-14T22:13:21.000Z');

/** SQS's character rule, as documented for SendMessage. */
const SQS_ALLOWED = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

describe('toSqsBody', () => {
  it.each<[string, unknown]>([
    ['U+FFFE and U+FFFF, which SQS refuses', { title: 'a\uFFFEb\uFFFF' }],
    ['characters beyond U+FFFF (refused by the local emulator)', { title: 'fire \u{1F525} \u{10FFFF}' }],
    ['lone surrogates', { title: '\uD800 \uDFFF' }],
    ['control characters', { title: '\u0000\u0001\u001F\u007F' }],
    ['in keys too', { 'k\uFFFF\u{1F525}': 1 }],
  ])('%s: the body is within SQS character set and means the same JSON', (_name, value) => {
    const body = toSqsBody(value);
    expect(body).toMatch(SQS_ALLOWED);
    expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('leaves ordinary text (accents, CJK, quotes) as JSON.stringify writes it', () => {
    const value = { title: 'Été 東京 "quoted" \\ back' };
    expect(toSqsBody(value)).toBe(JSON.stringify(value));
  });
});

describe('queuedAlertMessage', () => {
  it('is keyed by the alert id and holds the alert as received, its id and the receive time', () => {
    const alert = aRawAlert({ unknown_field: { kept: true }, severity: '2', created_at: '1459447024000' });
    const message = queuedAlertMessage({ id: String(alert.id), alert }, AT);
    expect(message.key).toBe(alert.id);
    expect(message.shortenedFields).toBe(0);
    expect(JSON.parse(message.body)).toEqual({ alert, alertId: alert.id, receivedAt: '2023-11-14T22:13:21.000Z' });
  });

  it('carries what ingest did to the alert, and round-trips through QueuedAlertCodec', () => {
    const alert = { title: 'no id', severity: 9 };
    const notes = [{ field: 'x', problem: 'nested deeper than 32 levels: cut at that depth' }];
    const decoded = decodeWith(QueuedAlertCodec, JSON.parse(queuedAlertMessage({ id: 'relay-derived-1', alert, notes }, AT).body));
    expect(decoded).toEqual({ kind: 'valid', value: { alert, alertId: 'relay-derived-1', receivedAt: AT.toISOString(), notes } });
  });

  it.each([
    ['ASCII', 'x', MAX_MESSAGE_BYTES],
    ['3-byte characters', '€', 100_000],
    ['quotes (escaped in JSON)', '"', 140_000],
    ['4-byte characters (escaped for SQS)', '😀', 60_000],
  ])('shortens an alert of %s too large for one message, and says so, instead of refusing it', (_name, char, length) => {
    const alert = aRawAlert({ title: char.repeat(length), evidence: { log: char.repeat(length) }, small: 'kept' });
    const message = queuedAlertMessage({ id: String(alert.id), alert }, AT);
    expect(messageBytes(message)).toBeLessThanOrEqual(MAX_QUEUED_ALERT_BYTES);
    // It uses the room it has: within a few characters' worth of the limit.
    expect(messageBytes(message)).toBeGreaterThan(MAX_QUEUED_ALERT_BYTES - 64);
    expect(message.shortenedFields).toBe(2);
    const body = JSON.parse(message.body) as { alert: Record<string, unknown>; notes: Array<{ field: string; problem: string }> };
    expect(body.alert.small).toBe('kept');
    expect(body.alert.id).toBe(alert.id);
    expect(String(body.alert.title).endsWith('…')).toBe(true);
    expect(typeof body.alert.evidence).toBe('string');
    expect(body.notes.map((note) => note.field).sort()).toEqual(['evidence', 'title']);
    expect(body.notes[0]?.problem).toMatch(/^shortened from \d+ characters to fit one queue message$/);
    // Deliver reads what is left: the id, the severity and the fields that were not cut.
    const read = readAlert(body.alert, { receivedAt: AT, id: message.key, notes: body.notes });
    expect(read).toMatchObject({ id: alert.id, severity: 1, serverOrRegion: alert.server_or_region });
  });

  it('keeps the documented fields and counts the rest when thousands of fields cannot all fit', () => {
    const many = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`field_${i}`, i]));
    const alert = aRawAlert(many);
    const message = queuedAlertMessage({ id: String(alert.id), alert }, AT);
    expect(messageBytes(message)).toBeLessThanOrEqual(MAX_QUEUED_ALERT_BYTES);
    const body = JSON.parse(message.body) as { alert: Record<string, unknown>; notes: Array<{ field: string; problem: string }> };
    expect(body.alert).toEqual(anAlertWithout(alert, Object.keys(many)));
    expect(body.notes).toEqual([{ field: '(other fields)', problem: '40000 fields left out to fit one queue message' }]);
  });

  it('leaves room for the failure deliver adds when it dead-letters the alert', () => {
    const alert = aRawAlert({ title: 'x'.repeat(MAX_MESSAGE_BYTES) });
    const message = queuedAlertMessage({ id: String(alert.id), alert }, AT);
    const queued = JSON.parse(message.body);
    const letter = failedDeliveryMessage(queued, message.key, `Squadcast answered 413 ${'r'.repeat(500)}`, AT);
    expect(messageBytes(letter)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });
});

const anAlertWithout = (alert: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> => {
  const left = new Set(keys);
  return Object.fromEntries(Object.entries(alert).filter(([key]) => !left.has(key)));
};

describe('rejectedAlertMessage', () => {
  it('holds the failure (stage ingest, problems, time) and the raw element', () => {
    const raw = aRawAlert({ severity: 'high' });
    const message = rejectedAlertMessage({ index: 4, problems: ['alerts[4].severity: expected Severity(1|2|3)'], raw }, AT);
    expect(message.key).toBe('rejected-4');
    expect(JSON.parse(message.body)).toEqual({
      failure: {
        stage: 'ingest',
        reason: 'invalid alert',
        problems: ['alerts[4].severity: expected Severity(1|2|3)'],
        at: AT.toISOString(),
      },
      raw,
    });
  });

  it('keeps a raw element that is not an object', () => {
    expect(JSON.parse(rejectedAlertMessage({ index: 0, problems: [], raw: 'junk' }, AT).body).raw).toBe('junk');
    expect(JSON.parse(rejectedAlertMessage({ index: 0, problems: [], raw: null }, AT).body).raw).toBeNull();
  });

  it('cuts a huge raw element down and says so', () => {
    const raw = { title: 'a'.repeat(300_000) };
    const body = JSON.parse(rejectedAlertMessage({ index: 0, problems: ['p'], raw }, AT).body) as { raw: unknown };
    expect(typeof body.raw).toBe('string');
    expect(body.raw).toMatch(/^\{"title":"a+…\(truncated from 300012 characters\)$/);
  });

  // A dead letter that does not fit one SQS message is refused by SQS: ingest would then answer
  // 503 for that batch on every retry, forever.
  it.each([
    ['ASCII', 'a'],
    ['quotes (escaped twice over)', '"'],
    ['backslashes', '\\'],
    ['control characters', '\u0001'],
    ['3-byte characters', '€'],
    ['4-byte characters', '😀'],
  ])('always fits one queue message, whatever the raw element holds: %s', (_name, char) => {
    for (const length of [90_000, 150_000, 300_000]) {
      const message = rejectedAlertMessage(
        { index: 0, problems: ['alert: larger than 262144 bytes'], raw: { title: char.repeat(length) } },
        AT,
      );
      expect(messageBytes(message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(() => JSON.parse(message.body)).not.toThrow();
    }
  });
});

describe('undecodableMessage', () => {
  it('is keyed by the SQS message id and holds the failure (stage deliver, problems, time) and the body as received', () => {
    const message = undecodableMessage('message-7', 'not json', ['(root): expected JSON'], AT);
    expect(message.key).toBe('message-7');
    const body: unknown = JSON.parse(message.body);
    expect(body).toEqual({
      failure: { stage: 'deliver', reason: 'undecodable message', problems: ['(root): expected JSON'], at: AT.toISOString() },
      raw: 'not json',
    });
    expect(decodeWith(RawDeadLetterCodec, body).kind).toBe('valid');
  });

  // SQS delivers a body of up to 256 KiB; as a JSON string inside the dead letter, its quotes,
  // backslashes and control characters take two bytes or more, and the dead letter must still fit.
  it.each([
    ['JSON (every quote escaped)', '{"a":"b"}'],
    ['backslashes', '\\'],
    ['control characters', '\u0001'],
    ['characters beyond U+FFFF (written as two \\u escapes)', '😀'],
  ])('cuts a 250 KiB body of %s to fit one queue message, and says so', (_name, unit) => {
    const received = unit.repeat(Math.floor((250 * 1024) / Buffer.byteLength(unit)));
    expect(Buffer.byteLength(received)).toBeGreaterThan(249 * 1024);
    expect(Buffer.byteLength(toSqsBody({ raw: received }))).toBeGreaterThan(MAX_MESSAGE_BYTES);
    const message = undecodableMessage('message-8', received, ['(root): expected JSON'], AT);
    expect(messageBytes(message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(message.body).toMatch(SQS_ALLOWED);
    const body = JSON.parse(message.body) as { raw: string };
    expect(body.raw).toMatch(new RegExp(`…\\(truncated from ${received.length} characters\\)$`));
    expect(received.startsWith(body.raw.replace(/…\(truncated from \d+ characters\)$/, ''))).toBe(true);
    expect(decodeWith(RawDeadLetterCodec, body).kind).toBe('valid');
  });
});

describe('failedDeliveryMessage', () => {
  it('keeps the queued alert as is and adds the failure, so that a redrive delivers it again', () => {
    const queued = { alert: anAlert(), alertId: 'a-1', receivedAt: '2023-11-14T22:13:20.000Z' };
    const message = failedDeliveryMessage(queued, 'a-1', 'Squadcast answered 400', AT);
    expect(message.key).toBe('a-1');
    const body: unknown = JSON.parse(message.body);
    expect(body).toEqual({ ...queued, failure: { stage: 'deliver', reason: 'Squadcast answered 400', at: AT.toISOString() } });
    const decoded = decodeWith(QueuedAlertCodec, body);
    expect(decoded.kind === 'valid' && decoded.value.alert).toEqual(queued.alert);
  });

  it('replaces an earlier failure', () => {
    const queued = { alert: anAlert(), failure: { stage: 'deliver' as const, reason: 'old', at: 'then' } };
    expect(JSON.parse(failedDeliveryMessage(queued, queued.alert.id, 'new', AT).body).failure).toEqual({
      stage: 'deliver',
      reason: 'new',
      at: AT.toISOString(),
    });
  });
});

describe('QueuedAlertCodec', () => {
  it.each<[string, unknown, boolean]>([
    ['a queued alert', { alert: aRawAlert() }, true],
    [
      'with receivedAt and a failure',
      { alert: aRawAlert(), receivedAt: 'x', failure: { stage: 'ingest', reason: 'r', at: 'a', problems: ['p'] } },
      true,
    ],
    ['a queued alert with its id and notes', { alert: aRawAlert(), alertId: 'a', notes: [{ field: 'f', problem: 'p' }] }, true],
    ['an alert the relay can read only in part (it pages degraded)', { alert: aRawAlert({ severity: 5 }) }, true],
    ['no alert', { receivedAt: 'x' }, false],
    ['an alert that is not an object', { alert: [aRawAlert()] }, false],
    ['notes of another shape', { alert: aRawAlert(), notes: ['p'] }, false],
    ['a failure with an unknown stage', { alert: aRawAlert(), failure: { stage: 'other', reason: 'r', at: 'a' } }, false],
    ['a rejected-alert dead letter (no alert)', { failure: { stage: 'ingest', reason: 'invalid alert', at: 'a' }, raw: {} }, false],
  ])('%s: %p', (_name, input, ok) => {
    expect(decodeWith(QueuedAlertCodec, input).kind === 'valid').toBe(ok);
  });
});
