import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handleIngestEvent } from '../lib/ingest/handle-ingest-event';
import { createIngestRuntime } from '../lib/runtime/ingest-runtime';
import { publishingMetrics } from '../lib/telemetry/powertools-metrics';
import { createTelemetry } from '../lib/runtime/telemetry';

const telemetry = createTelemetry('ingest', process.env);
const deps = createIngestRuntime(process.env, telemetry);

/** POST /threatstack/{token} (REST API, v1 payload). */
export const handler = publishingMetrics(telemetry.metrics, (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
  handleIngestEvent(event, deps, telemetry.log),
);
