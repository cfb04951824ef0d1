import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliverBatch } from '../lib/delivery/deliver-batch';
import { toBatchResponse, toQueueRecord } from '../lib/delivery/sqs-event';
import { createDeliverRuntime } from '../lib/runtime/deliver-runtime';
import { instrumented } from '../lib/telemetry/telemetry';

const runtime = createDeliverRuntime(process.env);

/** SQS event source with ReportBatchItemFailures: failed records stay on the queue and come back later. */
export const handler = instrumented(
  runtime.telemetry,
  async (event: SQSEvent): Promise<SQSBatchResponse> =>
    toBatchResponse(await deliverBatch(event.Records.map(toQueueRecord), await runtime.deps())),
);
