import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { BatchResult } from './deliver-batch';
import type { QueueRecord } from './record-outcome';

/** SentTimestamp: epoch milliseconds as a string; anything else is left out (the envelope's own time is used then). */
const sentAtMs = (record: SQSRecord): { readonly sentAtMs?: number } => {
  const text = record.attributes?.SentTimestamp ?? '';
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  return ms > 0 ? { sentAtMs: ms } : {};
};

export const toQueueRecord = (record: SQSRecord): QueueRecord => ({
  messageId: record.messageId,
  body: record.body,
  receiptHandle: record.receiptHandle,
  receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1,
  ...sentAtMs(record),
});

/** Only works with `functionResponseType: ReportBatchItemFailures` on the event source mapping.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html */
export const toBatchResponse = (result: BatchResult): SQSBatchResponse => ({
  batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })),
});
