import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { WebhookRequest } from './ingest-webhook';

/**
 * Reads a REST API (v1 payload) event. The caller's address is `requestContext.identity.sourceIp`,
 * which API Gateway takes from the connection; `X-Forwarded-For` and every other header are
 * set by the client and ignored.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
 */
export const toWebhookRequest = (event: APIGatewayProxyEvent): WebhookRequest => ({
  sourceIp: event.requestContext?.identity?.sourceIp ?? undefined,
  token: event.pathParameters?.token ?? undefined,
  body: event.body == null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
});
