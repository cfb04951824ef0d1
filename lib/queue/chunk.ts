import type { OutboundMessage } from './message-queue';
import { MAX_MESSAGE_BYTES, messageBytes } from './messages';

/** SendMessageBatch limits: 10 entries, and the sum of the bodies no more than one message may hold.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = MAX_MESSAGE_BYTES;

/** Groups messages, in order, into as few SendMessageBatch calls as the limits allow. */
export const chunkMessages = (messages: readonly OutboundMessage[]): OutboundMessage[][] => {
  const chunks: OutboundMessage[][] = [];
  let current: OutboundMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};
