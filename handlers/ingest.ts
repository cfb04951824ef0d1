import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handleIngestEvent } from '../lib/ingest/handle-ingest-event';
import { createIngestRuntime } from '../lib/runtime/ingest-runtime';
import { createJsonLogger } from '../lib/runtime/logger';

const deps = createIngestRuntime(process.env);
const log = createJsonLogger('ingest');

/** POST /threatstack/{token} (REST API, v1 payload). */
export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handleIngestEvent(event, deps, log);
