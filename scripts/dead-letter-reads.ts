import type { Message } from '@aws-sdk/client-sqs';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Reading the dead letters without hiding them: each is received, then made visible again at once. */

/** While the dead letters are read, they are hidden this long; every one is made visible again right after. */
const READ_VISIBILITY_SECONDS = 30;

/**
 * Every dead letter (up to `limit`), read without moving or hiding anything: each batch is received
 * (hidden for READ_VISIBILITY_SECONDS, so that the next receive returns others), and once all are
 * read, every one is made visible again at once. SQS counts each read as a receive.
 */
export const DEAD_LETTERS_READ_LIMIT = 1_000;

export const readDeadLetters = async (sqs: SQSClient, url: string, limit = DEAD_LETTERS_READ_LIMIT): Promise<Message[]> => {
  const held = await holdDeadLetters(sqs, url, limit);
  await held.release();
  return held.messages;
};

/**
 * Deletes one dead letter by its message id. It is received again first, for a receipt handle
 * that is surely current (a handle from an earlier read may no longer delete it once the message
 * was made visible again); every other message read on the way is made visible again at once.
 * False when no visible dead letter has that id (moved or deleted meanwhile).
 */
export const deleteDeadLetter = async (sqs: SQSClient, url: string, messageId: string): Promise<boolean> => {
  const held = await holdDeadLetters(sqs, url, DEAD_LETTERS_READ_LIMIT, messageId);
  const target = held.messages.find((message) => message.MessageId === messageId);
  try {
    if (target === undefined) return false;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: target.ReceiptHandle }));
    return true;
  } finally {
    await held.release(target);
  }
};

/** Reads dead letters and keeps them hidden until `release` (up to `limit`, or until `until` is among them). */
const holdDeadLetters = async (
  sqs: SQSClient,
  url: string,
  limit: number,
  until?: string,
): Promise<{ readonly messages: Message[]; release(except?: Message): Promise<void> }> => {
  const seen = new Map<string, Message>();
  const release = (except?: Message) =>
    releaseMessages(
      sqs,
      url,
      [...seen.values()].filter((message) => message !== except),
    );
  try {
    while (seen.size < limit) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: READ_VISIBILITY_SECONDS,
          // Long polling asks every SQS server: an empty answer means nothing visible is left
          // (a short poll samples some servers, and may come back empty while messages remain).
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const fresh = Messages.filter((message) => !seen.has(message.MessageId ?? ''));
      if (fresh.length === 0) break;
      for (const message of fresh) seen.set(message.MessageId ?? '', message);
      if (until !== undefined && seen.has(until)) break;
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { messages: [...seen.values()], release };
};

/** Makes messages visible again (after a preview or a read): nothing shown stays hidden. */
export const releaseMessages = async (sqs: SQSClient, url: string, messages: readonly Message[]): Promise<void> => {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: batch.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
      }),
    );
  }
};
