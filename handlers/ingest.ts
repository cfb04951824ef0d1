import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handleIngestEvent } from '../lib/ingest/handle-ingest-event';
import { createIngestRuntime } from '../lib/runtime/ingest-runtime';
import { instrumented } from '../lib/telemetry/telemetry';

const runtime = createIngestRuntime(process.env);

/** POST /threatstack/{token} (REST API, v1 payload). */
export const handler = instrumented(
  runtime.telemetry,
  (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handleIngestEvent(event, runtime.deps, runtime.telemetry.log),
);
