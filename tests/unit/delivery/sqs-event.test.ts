import { toBatchResponse, toQueueRecord } from '../../../lib/delivery/sqs-event';
import { anSqsRecord } from '../../helpers/factories';

describe('toQueueRecord', () => {
  it('takes the message id, body, receipt handle, receive count and SentTimestamp', () => {
    const record = anSqsRecord({ messageId: 'm-1', body: '{"alert":{}}', receiptHandle: 'rh-1', receiveCount: '4' });
    expect(toQueueRecord(record)).toEqual({
      messageId: 'm-1',
      body: '{"alert":{}}',
      receiptHandle: 'rh-1',
      receiveCount: 4,
      sentAtMs: 1_700_000_000_500,
    });
  });

  it.each<[string, string | undefined, number | undefined]>([
    ['epoch milliseconds', '1700000000500', 1_700_000_000_500],
    ['missing', undefined, undefined],
    ['empty (the local poller when the emulator gives none)', '', undefined],
    ['not a number', 'yesterday', undefined],
    ['zero', '0', undefined],
    ['a fraction', '1700000000500.5', undefined],
  ])('reads SentTimestamp %s as %p (left out, deliver falls back to the envelope)', (_name, sent, expected) => {
    const record = anSqsRecord();
    const attributes = { ...record.attributes } as Record<string, string | undefined>;
    if (sent === undefined) delete attributes.SentTimestamp;
    else attributes.SentTimestamp = sent;
    expect(toQueueRecord({ ...record, attributes: attributes as unknown as typeof record.attributes }).sentAtMs).toBe(expected);
  });

  it.each<[string, string | undefined, number]>([
    ['"1"', '1', 1],
    ['"15"', '15', 15],
    ['missing', undefined, 1],
    ['not a number', 'many', 1],
    ['"0"', '0', 1],
  ])('reads ApproximateReceiveCount %s as %p', (_name, count, expected) => {
    const record = anSqsRecord();
    const attributes = { ...record.attributes } as Record<string, string | undefined>;
    if (count === undefined) delete attributes.ApproximateReceiveCount;
    else attributes.ApproximateReceiveCount = count;
    expect(toQueueRecord({ ...record, attributes: attributes as unknown as typeof record.attributes }).receiveCount).toBe(expected);
  });
});

describe('toBatchResponse', () => {
  it('lists each failed message id as an itemIdentifier', () => {
    expect(toBatchResponse({ failedMessageIds: ['a', 'b'], outcomes: [] })).toEqual({
      batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }],
    });
  });

  it('answers an empty list when nothing failed (the whole batch is deleted)', () => {
    expect(toBatchResponse({ failedMessageIds: [], outcomes: [{ kind: 'delivered' }] })).toEqual({ batchItemFailures: [] });
  });
});
