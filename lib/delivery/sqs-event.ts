import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { BatchResult, QueueRecord } from './deliver-batch';

export const toQueueRecord = (record: SQSRecord): QueueRecord => ({
  messageId: record.messageId,
  body: record.body,
  receiptHandle: record.receiptHandle,
  receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1,
});

/** Only works with `functionResponseType: ReportBatchItemFailures` on the event source mapping.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html */
export const toBatchResponse = (result: BatchResult): SQSBatchResponse => ({
  batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })),
});
