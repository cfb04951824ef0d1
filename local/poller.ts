import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface PollerOptions {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  /** Parallel invocations, as the event source mapping's `maximumConcurrency`. */
  readonly concurrency: number;
  readonly waitTimeSeconds: number;
  readonly onError?: (error: unknown) => void;
  /**
   * The queue's maxReceiveCount, and what to do with a message that deliver failed on that many
   * times: the queue moves it to the dead-letter queue at its next receive, without a word.
   */
  readonly lastReceive?: { readonly maxReceiveCount: number; readonly told: (message: Message) => void };
}

export interface PollerStopped {
  /** Deliver invocations still running at the deadline. */
  readonly unfinishedInvocations: number;
  /** Messages those invocations held, made visible again so that the next start takes them at once. */
  readonly released: number;
}

export interface Poller {
  /**
   * Stops receiving and waits for the running invocations until `deadline` (epoch ms). The
   * messages of those still running then are released (visibility 0) rather than left hidden for
   * the whole visibility timeout. Such an invocation may have claimed its alerts in the ledger:
   * the claim's lease (DELIVERY_LEASE_MS) holds them back until it expires, and an alert whose POST
   * had reached Squadcast before its record was written is sent once more (the crash window).
   */
  stop(deadline: number): Promise<PollerStopped>;
}

const toRecord = (message: Message, queueArn: string): SQSRecord => ({
  messageId: message.MessageId ?? '',
  receiptHandle: message.ReceiptHandle ?? '',
  body: message.Body ?? '',
  attributes: {
    ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
    // Never made up: deliver measures how long an alert has waited from it (empty: from the envelope's receivedAt).
    SentTimestamp: message.Attributes?.SentTimestamp ?? '',
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
  /** The messages of each invocation running now. */
  const invocations = new Set<readonly Message[]>();

  /** Makes `messages` visible again; resolves with how many were. */
  const release = async (messages: readonly Message[]): Promise<number> => {
    const { Successful = [] } = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle ?? '',
          VisibilityTimeout: 0,
        })),
      }),
    );
    return Successful.length;
  };

  /** Failed on their last allowed receive: said once each, since the queue moves them without a word. */
  const tellLastReceives = (failed: readonly Message[]): void => {
    const last = options.lastReceive;
    if (last === undefined) return;
    for (const message of failed) if (Number(message.Attributes?.ApproximateReceiveCount ?? 1) >= last.maxReceiveCount) last.told(message);
  };

  const pollOnce = async (): Promise<void> => {
    // Not aborted on stop: a receive cut short after the emulator took the messages would leave
    // them hidden for the visibility timeout. A long poll ends within waitTimeSeconds.
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: options.batchSize,
        WaitTimeSeconds: options.waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return;
    if (!running) {
      await release(messages);
      return;
    }
    invocations.add(messages);
    let response: SQSBatchResponse;
    try {
      response = await handler({ Records: messages.map((message) => toRecord(message, options.queueArn)) });
    } catch (error) {
      tellLastReceives(messages);
      throw error;
    } finally {
      invocations.delete(messages);
    }
    const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    tellLastReceives(messages.filter((message) => failed.has(message.MessageId ?? '')));
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
    stop: async (deadline) => {
      running = false;
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.all(loops).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (finished) return { unfinishedInvocations: 0, released: 0 };
      const unfinished = [...invocations];
      const released = await Promise.all(
        unfinished.map((messages) =>
          release(messages).catch((error: unknown) => {
            options.onError?.(error);
            return 0;
          }),
        ),
      );
      return { unfinishedInvocations: unfinished.length, released: released.reduce((sum, n) => sum + n, 0) };
    },
  };
};
