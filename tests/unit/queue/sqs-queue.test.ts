import type { SendMessageBatchCommandInput, SendMessageBatchResult } from '@aws-sdk/client-sqs';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { OutboundMessage } from '../../../lib/queue/message-queue';
import { createSqsDepthReader, createSqsQueue, createSqsRetryScheduler } from '../../../lib/queue/sqs-queue';
import { anAwsError, fakeAwsClient } from '../../helpers/aws';
import { flushPromises } from '../../helpers/fakes';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/alerts';
const noSleep = jest.fn(async (_ms: number) => undefined);

const messages = (count: number, bytes = 10): OutboundMessage[] =>
  Array.from({ length: count }, (_, i) => ({ key: `alert-${i}`, body: `${i}:`.padEnd(bytes, 'x') }));

/** The fake client hands inputs over untyped. */
const asBatch = (input: Record<string, unknown>): SendMessageBatchCommandInput => input as unknown as SendMessageBatchCommandInput;

type Entries = NonNullable<SendMessageBatchCommandInput['Entries']>;
const bodies = (input: SendMessageBatchCommandInput): string[] => (input.Entries ?? []).map((e) => e.MessageBody ?? '');

/** Answers every entry as successful. */
const allSucceed = (input: SendMessageBatchCommandInput): SendMessageBatchResult => ({
  Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
  Failed: [],
});

beforeEach(() => noSleep.mockClear());

describe('createSqsQueue', () => {
  it('sends nothing for no messages', async () => {
    const sqs = fakeAwsClient(SQSClient);
    expect(await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll([])).toEqual({ failedKeys: [] });
    expect(sqs.commands()).toEqual([]);
  });

  it('sends SendMessageBatchCommand objects with the queue URL and at most 10 entries each', async () => {
    const sqs = fakeAwsClient(SQSClient, (_name, input) => allSucceed(asBatch(input)));
    const input = messages(23);
    expect(await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll(input)).toEqual({ failedKeys: [] });
    expect(sqs.commands().every((command) => command.name === SendMessageBatchCommand.name)).toBe(true);
    const inputs = sqs.inputsOf<SendMessageBatchCommandInput>('SendMessageBatchCommand');
    expect(inputs.map((i) => i.Entries?.length)).toEqual([10, 10, 3]);
    expect(inputs.every((i) => i.QueueUrl === QUEUE_URL)).toBe(true);
    expect(inputs.flatMap(bodies)).toEqual(input.map((m) => m.body));
    // Entry ids are unique within a call.
    for (const i of inputs) expect(new Set((i.Entries as Entries).map((e) => e.Id)).size).toBe(i.Entries?.length);
    expect(noSleep).not.toHaveBeenCalled();
  });

  it('splits by 256 KiB as well as by 10 entries', async () => {
    const sqs = fakeAwsClient(SQSClient, (_name, input) => allSucceed(asBatch(input)));
    await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll(messages(5, 100 * 1024));
    expect(sqs.inputsOf<SendMessageBatchCommandInput>('SendMessageBatchCommand').map((i) => i.Entries?.length)).toEqual([2, 2, 1]);
  });

  it('retries only the entries in Failed, with backoff, until they succeed', async () => {
    let call = 0;
    const sqs = fakeAwsClient(SQSClient, (_name, raw) => {
      const input = asBatch(raw);
      call++;
      if (call === 1) {
        const failed = (input.Entries ?? []).filter((e) => ['1', '3'].includes(e.Id ?? ''));
        return { Successful: [], Failed: failed.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })) };
      }
      return allSucceed(input);
    });
    const input = messages(5);
    expect(await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll(input)).toEqual({ failedKeys: [] });
    const inputs = sqs.inputsOf<SendMessageBatchCommandInput>('SendMessageBatchCommand');
    expect(inputs.map(bodies)).toEqual([input.map((m) => m.body), [input[1]?.body, input[3]?.body]]);
    expect(noSleep).toHaveBeenCalledTimes(1);
  });

  it('reports entries still failing after every attempt, by key', async () => {
    const sqs = fakeAwsClient(SQSClient, (_name, raw) => {
      const input = asBatch(raw);
      const entries = input.Entries ?? [];
      // The entry whose body starts with "2:" always fails (ids are positions in the call).
      const failing = entries.filter((e) => e.MessageBody?.startsWith('2:'));
      return { Successful: [], Failed: failing.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'ServiceUnavailable' })) };
    });
    const report = await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep, attempts: 3 }).sendAll(messages(4));
    expect(report).toEqual({ failedKeys: ['alert-2'] });
    expect(sqs.commands()).toHaveLength(3);
    expect(noSleep).toHaveBeenCalledTimes(2);
  });

  it('never rejects: should anything throw, every message is reported as not queued', async () => {
    const sqs = fakeAwsClient(SQSClient, () => {
      throw anAwsError('ServiceUnavailable');
    });
    const broken = async (): Promise<undefined> => {
      throw new Error('a timer that broke');
    };
    const report = await createSqsQueue(sqs.client, QUEUE_URL, { sleep: broken }).sendAll(messages(3));
    expect(report).toEqual({ failedKeys: ['alert-0', 'alert-1', 'alert-2'] });
  });

  it('does not retry a sender fault, and reports it', async () => {
    const sqs = fakeAwsClient(SQSClient, (_name, raw) => {
      const entries = asBatch(raw).Entries ?? [];
      return {
        Successful: [],
        Failed: entries.filter((e) => e.Id === '0').map((e) => ({ Id: e.Id, SenderFault: true, Code: 'InvalidMessageContents' })),
      };
    });
    const report = await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll(messages(3));
    expect(report).toEqual({ failedKeys: ['alert-0'] });
    expect(sqs.commands()).toHaveLength(1);
    expect(noSleep).not.toHaveBeenCalled();
  });

  it('ignores a Failed entry with an unknown id', async () => {
    const sqs = fakeAwsClient(SQSClient, () => ({ Successful: [], Failed: [{ Id: '99', SenderFault: false, Code: 'X' }] }));
    expect(await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll(messages(2))).toEqual({ failedKeys: [] });
  });

  it('retries a thrown send, then succeeds', async () => {
    let call = 0;
    const sqs = fakeAwsClient(SQSClient, (_name, input) => {
      if (++call === 1) throw anAwsError('ServiceUnavailable');
      return allSucceed(asBatch(input));
    });
    expect(await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll(messages(2))).toEqual({ failedKeys: [] });
    expect(sqs.commands()).toHaveLength(2);
  });

  it('retries a send that always throws, then reports every key of that chunk (never throws)', async () => {
    const sqs = fakeAwsClient(SQSClient, () => {
      throw anAwsError('AccessDenied');
    });
    const report = await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll(messages(12));
    expect([...report.failedKeys].sort()).toEqual(
      messages(12)
        .map((m) => m.key)
        .sort(),
    );
    expect(sqs.commands()).toHaveLength(2 * 4);
    expect(noSleep).toHaveBeenCalledTimes(2 * 3);
  });

  it('waits with growing backoff between attempts', async () => {
    const sqs = fakeAwsClient(SQSClient, () => {
      throw anAwsError('ServiceUnavailable');
    });
    await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep, attempts: 4, baseDelayMs: 100 }).sendAll(messages(1));
    const delays = noSleep.mock.calls.map(([ms]) => ms);
    expect(delays).toHaveLength(3);
    // Equal jitter: attempt n waits between half and all of min(2000, 100 * 2^(n-1)).
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
    expect(delays[2]).toBeGreaterThanOrEqual(200);
    expect(delays[2]).toBeLessThanOrEqual(400);
  });

  it('fails only the chunk that failed', async () => {
    const sqs = fakeAwsClient(SQSClient, (_name, raw) => {
      const input = asBatch(raw);
      if (bodies(input).some((b) => b.startsWith('10:'))) throw anAwsError('InternalError');
      return allSucceed(input);
    });
    const report = await createSqsQueue(sqs.client, QUEUE_URL, { sleep: noSleep }).sendAll(messages(15));
    expect(report.failedKeys).toEqual(['alert-10', 'alert-11', 'alert-12', 'alert-13', 'alert-14']);
  });

  it('sends the chunks in parallel', async () => {
    const pending: Array<() => void> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const send = jest.fn(async (command: SendMessageBatchCommand) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((resolve) => pending.push(resolve));
      inFlight--;
      return allSucceed(command.input);
    });
    const queue = createSqsQueue({ send } as unknown as SQSClient, QUEUE_URL, { sleep: noSleep });
    const sending = queue.sendAll(messages(35));
    await flushPromises();
    expect(inFlight).toBe(4);
    for (const resolve of pending) resolve();
    expect(await sending).toEqual({ failedKeys: [] });
    expect(maxInFlight).toBe(4);
  });
});

describe('createSqsRetryScheduler', () => {
  it.each<[number, number]>([
    [30, 30],
    [0, 0],
    [12.2, 13],
    [-5, 0],
    [43_200, 43_200],
    [43_201, 43_200],
    [1e9, 43_200],
  ])('changes the visibility for %p seconds to %p', async (seconds, visibility) => {
    const sqs = fakeAwsClient(SQSClient);
    await createSqsRetryScheduler(sqs.client, QUEUE_URL).retryAfter('receipt-1', seconds);
    expect(sqs.commands()).toEqual([
      { name: 'ChangeMessageVisibilityCommand', input: { QueueUrl: QUEUE_URL, ReceiptHandle: 'receipt-1', VisibilityTimeout: visibility } },
    ]);
  });

  it('lets a failed call reject (the caller decides)', async () => {
    const sqs = fakeAwsClient(SQSClient, () => {
      throw anAwsError('ReceiptHandleIsInvalid');
    });
    await expect(createSqsRetryScheduler(sqs.client, QUEUE_URL).retryAfter('r', 1)).rejects.toThrow('ReceiptHandleIsInvalid');
  });
});

describe('createSqsDepthReader', () => {
  const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letter';

  it('sums waiting, in-flight and delayed messages of the alerts queue, and the dead letters waiting or being read', async () => {
    const sqs = fakeAwsClient(SQSClient, (_name, input) =>
      input.QueueUrl === QUEUE_URL
        ? {
            Attributes: {
              ApproximateNumberOfMessages: '3',
              ApproximateNumberOfMessagesNotVisible: '4',
              ApproximateNumberOfMessagesDelayed: '5',
            },
          }
        : { Attributes: { ApproximateNumberOfMessages: '7', ApproximateNumberOfMessagesNotVisible: '2' } },
    );
    expect(await createSqsDepthReader(sqs.client, QUEUE_URL, DLQ_URL).depths()).toEqual({ pending: 12, deadLetter: 9 });
    expect(sqs.commands()).toEqual([
      {
        name: 'GetQueueAttributesCommand',
        input: {
          QueueUrl: QUEUE_URL,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        },
      },
      {
        name: 'GetQueueAttributesCommand',
        input: { QueueUrl: DLQ_URL, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] },
      },
    ]);
  });

  it('reads missing or unreadable attributes as zero', async () => {
    const sqs = fakeAwsClient(SQSClient, (_name, input) =>
      input.QueueUrl === QUEUE_URL ? { Attributes: { ApproximateNumberOfMessages: 'n/a', ApproximateNumberOfMessagesDelayed: '2' } } : {},
    );
    expect(await createSqsDepthReader(sqs.client, QUEUE_URL, DLQ_URL).depths()).toEqual({ pending: 2, deadLetter: 0 });
  });

  it('lets a failed read reject', async () => {
    const sqs = fakeAwsClient(SQSClient, () => {
      throw anAwsError('QueueDoesNotExist');
    });
    await expect(createSqsDepthReader(sqs.client, QUEUE_URL, DLQ_URL).depths()).rejects.toThrow('QueueDoesNotExist');
  });
});
