import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { backoffWithJitter, sleep } from '../common/backoff';
import { mapWithConcurrency } from '../common/concurrency';
import { chunkMessages } from './chunk';
import type { DeadLetterScanner, MessageQueue, OutboundMessage, QueueDepthReader, RetryScheduler } from './message-queue';
import { SQS_MAX_VISIBILITY_SECONDS } from './message-queue';

export interface SqsQueueOptions {
  /** Attempts per chunk, counting the first (entries in `Failed` and thrown calls are retried). */
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** SendMessageBatch calls in flight at once (default: the SDK's 50 sockets a host). */
  readonly maxInFlight?: number;
}

/**
 * The SDK's HTTP handler opens at most 50 sockets a host: more calls in flight would only queue
 * there, each holding its serialized, signed request. Bounding them here keeps ingest's peak
 * memory flat in the batch size (docs/performance.md, figure 6) at no cost in throughput.
 */
const DEFAULT_MAX_IN_FLIGHT = 50;

/**
 * Sends with SendMessageBatch, 10 entries (and at most 256 KiB) a call, up to `maxInFlight` calls in parallel.
 * A batch call can succeed partly: the entries in `Failed` are retried with backoff, except
 * sender faults, which a retry cannot fix.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
export const createSqsQueue = (client: SQSClient, queueUrl: string, options: SqsQueueOptions = {}): MessageQueue => {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const wait = options.sleep ?? sleep;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;

  const sendChunk = async (chunk: readonly OutboundMessage[]): Promise<string[]> => {
    let pending = chunk;
    const permanent: string[] = [];
    for (let attempt = 1; attempt <= attempts && pending.length > 0; attempt++) {
      if (attempt > 1) await wait(backoffWithJitter(attempt - 1, baseDelayMs, 2_000));
      try {
        const result = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: pending.map((message, index) => ({ Id: String(index), MessageBody: message.body })),
          }),
        );
        const retry: OutboundMessage[] = [];
        for (const failure of result.Failed ?? []) {
          const message = pending[Number(failure.Id)];
          if (message === undefined) continue;
          if (failure.SenderFault) permanent.push(message.key);
          else retry.push(message);
        }
        pending = retry;
      } catch {
        // The SDK has already retried throttling and network errors; try the whole chunk again.
      }
    }
    return [...permanent, ...pending.map((message) => message.key)];
  };

  return {
    sendAll: async (messages) => {
      if (messages.length === 0) return { failedKeys: [] };
      try {
        const failed = await mapWithConcurrency(chunkMessages(messages), maxInFlight, sendChunk);
        return { failedKeys: failed.flat() };
      } catch {
        // Nothing above should throw (each call's errors are caught); if anything does, every message counts as not queued.
        return { failedKeys: messages.map((message) => message.key) };
      }
    },
  };
};

export const createSqsRetryScheduler = (client: SQSClient, queueUrl: string): RetryScheduler => ({
  retryAfter: async (receiptHandle, seconds) => {
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.ceil(seconds))),
      }),
    );
  },
});

const readCount = (attributes: Record<string, string> | undefined, ...names: string[]): number =>
  names.reduce((sum, name) => sum + (Number(attributes?.[name] ?? 0) || 0), 0);

export const createSqsDepthReader = (client: SQSClient, alertsQueueUrl: string, deadLetterQueueUrl: string): QueueDepthReader => ({
  depths: async () => {
    const [alerts, deadLetter] = await Promise.all([
      client.send(
        new GetQueueAttributesCommand({
          QueueUrl: alertsQueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      ),
      client.send(
        new GetQueueAttributesCommand({
          QueueUrl: deadLetterQueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      ),
    ]);
    return {
      pending: readCount(
        alerts.Attributes,
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ),
      // In flight too: a dead letter being read (a preview, the console's "Poll for messages") is still there.
      deadLetter: readCount(deadLetter.Attributes, 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'),
    };
  },
});

/** How long a dead letter the watch has read stays hidden before it is released (at once, after the look). */
const SCAN_VISIBILITY_SECONDS = 30;
/** The watch reads at most this many dead letters a run (SQS has no peek: each is received, then released). */
export const MAX_SCANNED_DEAD_LETTERS = 1_000;

/**
 * Every dead letter's SentTimestamp, for the watch. A message SQS moved to the dead-letter queue (after
 * maxReceiveCount) keeps its first enqueue time, and one the relay sent there has its own: either way,
 * SQS deletes it 14 days after that time. Each is received for 30 s at most, and all are released
 * (visibility 0) once counted, so a look hides nothing for long; the receives count on the messages, which
 * matters nowhere here (the dead-letter queue has no redrive policy).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 */
export const createSqsDeadLetterScanner = (client: SQSClient, deadLetterQueueUrl: string): DeadLetterScanner => ({
  scan: async () => {
    const handles: string[] = [];
    let oldest: number | undefined;
    try {
      while (handles.length < MAX_SCANNED_DEAD_LETTERS) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: deadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            // A long poll asks every SQS server; a short one (0) samples some and can answer empty while letters wait.
            // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
            WaitTimeSeconds: 1,
            VisibilityTimeout: SCAN_VISIBILITY_SECONDS,
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) {
          handles.push(message.ReceiptHandle ?? '');
          const sentAt = Number(message.Attributes?.SentTimestamp);
          if (Number.isFinite(sentAt) && sentAt > 0) oldest = Math.min(oldest ?? sentAt, sentAt);
        }
      }
    } finally {
      for (let i = 0; i < handles.length; i += 10)
        await client
          .send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: deadLetterQueueUrl,
              Entries: handles.slice(i, i + 10).map((handle, j) => ({ Id: String(j), ReceiptHandle: handle, VisibilityTimeout: 0 })),
            }),
          )
          .catch(() => undefined);
    }
    return {
      ...(oldest === undefined ? {} : { oldestSentAtMs: oldest }),
      seen: handles.length,
      capped: handles.length >= MAX_SCANNED_DEAD_LETTERS,
    };
  },
});
