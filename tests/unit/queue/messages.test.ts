import { isRight } from 'fp-ts/lib/Either';
import {
  failedDeliveryMessage,
  MAX_MESSAGE_BYTES,
  messageBytes,
  QueuedAlertCodec,
  queuedAlertMessage,
  rejectedAlertMessage,
} from '../../../lib/queue/messages';
import { anAlert, aRawAlert } from '../../helpers/factories';

const AT = new Date('2023-11-14T22:13:21.000Z');

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
