import { isRight } from 'fp-ts/lib/Either';
import {
  failedDeliveryMessage,
  MAX_MESSAGE_BYTES,
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
  it('is keyed by the alert id and holds the alert and the receive time', () => {
    const alert = anAlert({ unknown_field: { kept: true } });
    const message = queuedAlertMessage(alert, AT);
    expect(message.key).toBe(alert.id);
    expect(JSON.parse(message.body)).toEqual({ alert, receivedAt: '2023-11-14T22:13:21.000Z' });
  });

  it('round-trips through QueuedAlertCodec', () => {
    const alert = anAlert({ organization_Name: 'Org', extra: [1] });
    const decoded = QueuedAlertCodec.decode(JSON.parse(queuedAlertMessage(alert, AT).body));
    expect(isRight(decoded) && decoded.right).toEqual({ alert, receivedAt: AT.toISOString() });
  });
});

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
    expect(isRight(RawDeadLetterCodec.decode(body))).toBe(true);
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
    expect(isRight(RawDeadLetterCodec.decode(body))).toBe(true);
  });
});

describe('failedDeliveryMessage', () => {
  it('keeps the queued alert as is and adds the failure, so that a redrive delivers it again', () => {
    const queued = { alert: anAlert(), receivedAt: '2023-11-14T22:13:20.000Z' };
    const message = failedDeliveryMessage(queued, 'Squadcast answered 400', AT);
    expect(message.key).toBe(queued.alert.id);
    const body: unknown = JSON.parse(message.body);
    expect(body).toEqual({ ...queued, failure: { stage: 'deliver', reason: 'Squadcast answered 400', at: AT.toISOString() } });
    const decoded = QueuedAlertCodec.decode(body);
    expect(isRight(decoded) && decoded.right.alert).toEqual(queued.alert);
  });

  it('replaces an earlier failure', () => {
    const queued = { alert: anAlert(), failure: { stage: 'deliver' as const, reason: 'old', at: 'then' } };
    expect(JSON.parse(failedDeliveryMessage(queued, 'new', AT).body).failure).toEqual({
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
    ['no alert', { receivedAt: 'x' }, false],
    ['an invalid alert', { alert: aRawAlert({ severity: 5 }) }, false],
    ['a failure with an unknown stage', { alert: aRawAlert(), failure: { stage: 'other', reason: 'r', at: 'a' } }, false],
    ['a rejected-alert dead letter (no alert)', { failure: { stage: 'ingest', reason: 'invalid alert', at: 'a' }, raw: {} }, false],
  ])('%s: %p', (_name, input, ok) => {
    expect(isRight(QueuedAlertCodec.decode(input))).toBe(ok);
  });
});
