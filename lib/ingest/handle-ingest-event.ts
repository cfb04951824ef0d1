import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConfigError } from '../common/config-error';
import type { Logger } from '../common/logger';
import { toWebhookRequest } from './api-gateway';
import { serviceUnavailable, toHttpResponse } from './http-response';
import type { IngestDeps } from './ingest-webhook';
import { ingestWebhook } from './ingest-webhook';

/** API Gateway event in, API Gateway answer out; nothing thrown ever becomes a 4xx or a 502. */
export const handleIngestEvent = async (
  event: APIGatewayProxyEvent,
  deps: () => Promise<IngestDeps>,
  log: Logger,
): Promise<APIGatewayProxyResult> => {
  try {
    return toHttpResponse(await ingestWebhook(toWebhookRequest(event), await deps()));
  } catch (error) {
    log.error('ingest failed unexpectedly', {
      error: (error as Error)?.name ?? 'unknown',
      detail: error instanceof ConfigError ? error.message : undefined,
    });
    return serviceUnavailable();
  }
};
