import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** What a webhook call carries, as API Gateway sees it. */
export interface WebhookCall {
  readonly token: string;
  readonly body: string | Buffer;
  /** The TCP peer: API Gateway takes `requestContext.identity.sourceIp` from the connection. */
  readonly sourceIp: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[]>>;
  readonly stage: string;
  readonly requestId: string;
  readonly httpMethod?: string;
}

/**
 * The REST API (v1) proxy event API Gateway builds for `POST /threatstack/{token}`: what `npm start`,
 * the benchmark and the deploy rehearsal give the ingest handler. A Buffer body travels base64, as
 * API Gateway sends a binary body; a string as it is.
 */
export const webhookEvent = (call: WebhookCall): APIGatewayProxyEvent => {
  const headers = call.headers ?? { 'Content-Type': 'application/json' };
  const path = `/threatstack/${call.token}`;
  const binary = Buffer.isBuffer(call.body);
  return {
    resource: '/threatstack/{token}',
    path,
    httpMethod: call.httpMethod ?? 'POST',
    headers,
    multiValueHeaders: call.multiValueHeaders ?? Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { token: call.token },
    stageVariables: null,
    body: binary ? (call.body as Buffer).toString('base64') : (call.body as string),
    isBase64Encoded: binary,
    requestContext: {
      identity: { sourceIp: call.sourceIp },
      httpMethod: call.httpMethod ?? 'POST',
      path,
      resourcePath: '/threatstack/{token}',
      stage: call.stage,
      requestId: call.requestId,
      requestTimeEpoch: Date.now(),
    },
  } as unknown as APIGatewayProxyEvent;
};

/** A stream read whole (a request or an answer body). */
export const readAll = (stream: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
