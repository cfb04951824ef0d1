import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { WebhookRequest } from './request-screen';

/**
 * One request header, found whatever its case (header names are case-insensitive, and API Gateway
 * passes them as the client spelt them). Repeated lines are joined with commas, as for any list
 * header. `multiValueHeaders` holds every line; `headers` only the last.
 * https://www.rfc-editor.org/rfc/rfc9110#name-field-order
 */
const headerValue = (event: APIGatewayProxyEvent, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  const matching = <V>(headers: Readonly<Record<string, V | undefined>> | null | undefined): V[] =>
    Object.entries(headers ?? {}).flatMap(([key, value]) => (key.toLowerCase() === wanted && value !== undefined ? [value] : []));
  const lines = matching(event.multiValueHeaders).flat();
  const values = lines.length > 0 ? lines : matching(event.headers);
  return values.length > 0 ? values.join(',') : undefined;
};

/**
 * Reads a REST API (v1 payload) event. The caller's address is `requestContext.identity.sourceIp`,
 * which API Gateway takes from the connection; headers are set by the client, so `X-Forwarded-For`
 * is ignored and only Content-Encoding is read (a body ingest cannot decode is refused).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
 */
export const toWebhookRequest = (event: APIGatewayProxyEvent): WebhookRequest => ({
  sourceIp: event.requestContext?.identity?.sourceIp ?? undefined,
  token: event.pathParameters?.token ?? undefined,
  contentEncoding: headerValue(event, 'content-encoding'),
  body: event.body == null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
  ...(isSmokeTest(event) ? { smokeTest: true } : {}),
});

/**
 * The smoke test's mark (scripts/smoke.ts): a field of requestContext that API Gateway never writes.
 * API Gateway builds requestContext itself, so no HTTP caller can set it; only an identity allowed
 * lambda:InvokeFunction on ingest can.
 */
export const SMOKE_TEST_MARK = 'relaySmokeTest';
const isSmokeTest = (event: APIGatewayProxyEvent): boolean =>
  (event.requestContext as unknown as Readonly<Record<string, unknown>> | undefined)?.[SMOKE_TEST_MARK] === true;
