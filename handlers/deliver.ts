import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliverBatch } from '../lib/delivery/deliver-batch';
import { toBatchResponse, toQueueRecord } from '../lib/delivery/sqs-event';
import { createDeliverRuntime } from '../lib/runtime/deliver-runtime';
import { publishingMetrics } from '../lib/telemetry/powertools-metrics';
import { createTelemetry } from '../lib/runtime/telemetry';

const telemetry = createTelemetry('deliver', process.env);
const deps = createDeliverRuntime(process.env, telemetry);

/** SQS event source with ReportBatchItemFailures: failed records stay on the queue and come back later. */
export const handler = publishingMetrics(telemetry.metrics, async (event: SQSEvent): Promise<SQSBatchResponse> =>
  toBatchResponse(await deliverBatch(event.Records.map(toQueueRecord), await deps())),
);
