import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { startPoller } from '../../local/poller';
import { fakeAwsClient } from '../helpers/aws';
import { deferred } from '../helpers/fakes';

/**
 * The local stand-in for Lambda's event source mapping, against a command-level SQS fake: it
 * deletes what succeeded, and on stop lets running invocations finish or releases their messages.
 */
const QUEUE = 'http://127.0.0.1:1/000000000000/alerts';

/** A queue that hands out `batches` in order, then nothing (after a short long-poll). */
const queueOf = (batches: string[][]) => {
  const pending = [...batches];
  return fakeAwsClient(SQSClient, async (name, input) => {
    if (name === 'ReceiveMessageCommand') {
      const batch = pending.shift();
      if (batch === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { Messages: [] };
      }
      // An id `x@3` is message x on its third receive.
      return {
        Messages: batch.map((tag) => {
          const [id, receives = '1'] = tag.split('@');
          return { MessageId: id, ReceiptHandle: `handle-${id}`, Body: '{}', Attributes: { ApproximateReceiveCount: receives } };
        }),
      };
    }
    if (name === 'ChangeMessageVisibilityBatchCommand')
      return { Successful: (input.Entries as Array<{ Id: string }>).map((entry) => ({ Id: entry.Id })) };
    return {};
  });
};

const options = { queueUrl: QUEUE, queueArn: 'arn:aws:sqs:us-east-1:000000000000:alerts', batchSize: 10, waitTimeSeconds: 1 };

it('deletes the records that succeeded, leaves the failed ones, and stops at once when idle', async () => {
  const sqs = queueOf([['a', 'b', 'c']]);
  const seen: string[] = [];
  const poller = startPoller(
    sqs.client,
    async (event: SQSEvent): Promise<SQSBatchResponse> => {
      seen.push(...event.Records.map((record) => record.messageId));
      return { batchItemFailures: [{ itemIdentifier: 'b' }] };
    },
    { ...options, concurrency: 1 },
  );
  while (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(await poller.stop(Date.now() + 1_000)).toEqual({ unfinishedInvocations: 0, released: 0 });
  expect(sqs.inputsOf('DeleteMessageBatchCommand')).toEqual([
    {
      QueueUrl: QUEUE,
      Entries: [
        { Id: '0', ReceiptHandle: 'handle-a' },
        { Id: '1', ReceiptHandle: 'handle-c' },
      ],
    },
  ]);
  expect(sqs.inputsOf('ChangeMessageVisibilityBatchCommand')).toEqual([]);
});

it('on stop, an invocation that finishes before the deadline completes normally; one that does not has its messages released', async () => {
  const sqs = queueOf([['quick-1'], ['stuck-1', 'stuck-2']]);
  const quick = deferred<SQSBatchResponse>();
  const started: string[] = [];
  const poller = startPoller(
    sqs.client,
    (event) => {
      const first = event.Records[0]?.messageId ?? '';
      started.push(first);
      return first === 'quick-1' ? quick.promise : new Promise(() => undefined);
    },
    { ...options, concurrency: 2 },
  );
  while (started.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  // The stuck invocation never ends; the quick one ends at once, well inside a generous deadline.
  const stopping = poller.stop(Date.now() + 1_000);
  quick.resolve({ batchItemFailures: [] });
  expect(await stopping).toEqual({ unfinishedInvocations: 1, released: 2 });
  expect(sqs.inputsOf('DeleteMessageBatchCommand')).toEqual([{ QueueUrl: QUEUE, Entries: [{ Id: '0', ReceiptHandle: 'handle-quick-1' }] }]);
  expect(sqs.inputsOf('ChangeMessageVisibilityBatchCommand')).toEqual([
    {
      QueueUrl: QUEUE,
      Entries: [
        { Id: '0', ReceiptHandle: 'handle-stuck-1', VisibilityTimeout: 0 },
        { Id: '1', ReceiptHandle: 'handle-stuck-2', VisibilityTimeout: 0 },
      ],
    },
  ]);
});

it('messages received after the stop began are released at once, never handed to deliver', async () => {
  const receivedAfterStop = deferred<void>();
  let stopped = false;
  const sqs = fakeAwsClient(SQSClient, async (name, input) => {
    if (name === 'ReceiveMessageCommand') {
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (!stopped) return { Messages: [] };
      receivedAfterStop.resolve();
      return { Messages: [{ MessageId: 'late', ReceiptHandle: 'handle-late', Body: '{}' }] };
    }
    if (name === 'ChangeMessageVisibilityBatchCommand')
      return { Successful: (input.Entries as Array<{ Id: string }>).map((entry) => ({ Id: entry.Id })) };
    return {};
  });
  const handler = jest.fn(async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] }));
  const poller = startPoller(sqs.client, handler, { ...options, concurrency: 1 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  stopped = true;
  const report = await poller.stop(Date.now() + 1_000);
  await receivedAfterStop.promise;
  expect(report).toEqual({ unfinishedInvocations: 0, released: 0 });
  expect(handler).not.toHaveBeenCalled();
  expect(sqs.inputsOf('ChangeMessageVisibilityBatchCommand')).toEqual([
    { QueueUrl: QUEUE, Entries: [{ Id: '0', ReceiptHandle: 'handle-late', VisibilityTimeout: 0 }] },
  ]);
});

it('tells of each message that failed on its last allowed receive (thrown or reported), once, and of no other', async () => {
  const sqs = queueOf([['a@3', 'b@2', 'c@3'], ['d@5']]);
  const told: string[] = [];
  let invocations = 0;
  const poller = startPoller(
    sqs.client,
    async (event: SQSEvent): Promise<SQSBatchResponse> => {
      invocations += 1;
      if (event.Records[0]?.messageId === 'd') throw new Error('deliver crashed');
      return { batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }] };
    },
    {
      ...options,
      concurrency: 1,
      onError: () => undefined,
      lastReceive: { maxReceiveCount: 3, told: (message) => told.push(message.MessageId ?? '') },
    },
  );
  while (invocations < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  await poller.stop(Date.now() + 1_000);
  // a: failed on receive 3 of 3; b: failed, receives left; c: delivered; d: the invocation threw on its fifth.
  expect(told).toEqual(['a', 'd']);
});
