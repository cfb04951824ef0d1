import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { OutboundMessage } from './message-queue';

/** Puts one message on a queue; a failure throws (after the SDK's own retries). */
export interface SingleMessageSender {
  send(message: OutboundMessage): Promise<{ readonly messageId: string }>;
}

export const createSqsSingleSender = (client: SQSClient, queueUrl: string): SingleMessageSender => ({
  send: async (message) => {
    const result = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.body }));
    return { messageId: result.MessageId ?? '' };
  },
});

/** `https://sqs.us-east-1.amazonaws.com/123456789012/name` → `name`: what a person recognises in the console. */
export const queueNameOf = (queueUrl: string): string =>
  queueUrl
    .split('/')
    .filter((part) => part !== '')
    .pop() ?? queueUrl;
