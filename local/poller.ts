import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface PollerOptions {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  /** Parallel invocations, as the event source mapping's `maximumConcurrency`. */
  readonly concurrency: number;
  readonly waitTimeSeconds: number;
  readonly onError?: (error: unknown) => void;
}

export interface Poller {
  stop(): Promise<void>;
}

const toRecord = (message: Message, queueArn: string): SQSRecord => ({
  messageId: message.MessageId ?? '',
  receiptHandle: message.ReceiptHandle ?? '',
  body: message.Body ?? '',
  attributes: {
    ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
    SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
    SenderId: message.Attributes?.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: message.MD5OfBody ?? '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
});

/**
 * Drives a Lambda-style SQS handler the way the event source mapping does: receive a batch,
 * invoke, delete only the records not listed in `batchItemFailures`. A thrown handler error
 * leaves the whole batch to come back after its visibility timeout; after `maxReceiveCount`
 * receives the queue's redrive policy moves a message to the dead-letter queue.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export const startPoller = (sqs: SQSClient, handler: (event: SQSEvent) => Promise<SQSBatchResponse>, options: PollerOptions): Poller => {
  let running = true;
  const controller = new AbortController();

  const pollOnce = async (): Promise<void> => {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: options.batchSize,
        WaitTimeSeconds: options.waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
      }),
      { abortSignal: controller.signal },
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return;
    const response = await handler({ Records: messages.map((message) => toRecord(message, options.queueArn)) });
    const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    const done = messages.filter((message) => !failed.has(message.MessageId ?? ''));
    if (done.length === 0) return;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
      }),
    );
  };

  const loop = async (): Promise<void> => {
    while (running) {
      try {
        await pollOnce();
      } catch (error) {
        if (!running) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  const loops = Array.from({ length: options.concurrency }, loop);
  return {
    stop: async () => {
      running = false;
      controller.abort();
      await Promise.all(loops);
    },
  };
};
