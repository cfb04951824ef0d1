import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { RelayStatus } from '../lib/status/relay-status';
import { InvalidTestAlertEvent } from '../lib/test-alert/test-alert';
import { prefersHtml, renderStatusPage, STATUS_PAGE_CSP } from './status-page';

export interface LocalRoutes {
  ingest(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  status(): Promise<RelayStatus>;
  /** The test-alert function: `POST /local/test-alert` with its (optional) JSON event. */
  testAlert?(event: unknown): Promise<unknown>;
  inbox?: { receive(body: string): { status: number; body: unknown }; list(): readonly unknown[] };
}

/** API Gateway's own payload limit: larger requests never reach the Lambda. */
const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

const readBody = (request: IncomingMessage, limit: number): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });

const sendJson = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};

/**
 * The REST API v1 event API Gateway would build. `sourceIp` is the TCP peer, as API Gateway
 * takes it from the connection; headers such as X-Forwarded-For are passed on untouched.
 */
export const toApiGatewayEvent = (request: IncomingMessage, path: string, token: string, body: Buffer): APIGatewayProxyEvent => {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] ?? '';
    const value = request.rawHeaders[i + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return {
    resource: '/threatstack/{token}',
    path,
    httpMethod: request.method ?? 'POST',
    headers,
    multiValueHeaders,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { token },
    stageVariables: null,
    body: body.toString('base64'),
    isBase64Encoded: true,
    requestContext: {
      identity: { sourceIp: request.socket.remoteAddress ?? '' },
      httpMethod: request.method ?? 'POST',
      path,
      resourcePath: '/threatstack/{token}',
      stage: 'local',
      requestId: `local-${Date.now()}`,
      requestTimeEpoch: Date.now(),
    },
  } as unknown as APIGatewayProxyEvent;
};

const decodeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

const route = async (routes: LocalRoutes, request: IncomingMessage, response: ServerResponse): Promise<void> => {
  const url = new URL(request.url ?? '/', 'http://local');
  const webhook = /^\/threatstack\/([^/]*)$/.exec(url.pathname);
  if (webhook && request.method === 'POST') {
    const body = await readBody(request, API_GATEWAY_MAX_BYTES);
    if (body === undefined) return sendJson(response, 413, { message: 'Request Too Long' });
    const result = await routes.ingest(toApiGatewayEvent(request, url.pathname, decodeSegment(webhook[1] ?? '') ?? '', body));
    response.writeHead(result.statusCode, result.headers as Record<string, string>);
    response.end(result.body);
    return;
  }
  if (url.pathname === '/status' && request.method === 'GET') {
    const status = await routes.status();
    // JSON unless the client prefers HTML (a browser): scripts and tests read the JSON.
    if (!prefersHtml(request.headers.accept)) return sendJson(response, 200, status, { vary: 'accept' });
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': STATUS_PAGE_CSP,
      'cache-control': 'no-store',
      vary: 'accept',
    });
    response.end(renderStatusPage(status));
    return;
  }
  if (routes.testAlert && url.pathname === '/local/test-alert' && request.method === 'POST') {
    const body = (await readBody(request, 64 * 1024))?.toString('utf8').trim() ?? '';
    let event: unknown = {};
    try {
      if (body !== '') event = JSON.parse(body);
    } catch {
      return sendJson(response, 400, { error: 'body is not valid JSON' });
    }
    try {
      return sendJson(response, 200, await routes.testAlert(event));
    } catch (error) {
      // Lambda reports a thrown error as a failed invocation; locally, a bad event is a 400.
      if (error instanceof InvalidTestAlertEvent) return sendJson(response, 400, { error: error.message });
      throw error;
    }
  }
  if (routes.inbox && url.pathname === '/local/incidents' && request.method === 'GET') return sendJson(response, 200, routes.inbox.list());
  if (routes.inbox && url.pathname.startsWith('/local/squadcast/') && request.method === 'POST') {
    const body = await readBody(request, API_GATEWAY_MAX_BYTES);
    const answer = routes.inbox.receive(body?.toString('utf8') ?? '');
    return sendJson(response, answer.status, answer.body);
  }
  sendJson(response, 404, { error: 'not found' });
};

export const startHttpServer = async (
  routes: LocalRoutes,
  port: number,
  onError: (error: unknown) => void,
): Promise<{ server: Server; port: number }> => {
  const server = createServer((request, response) => {
    route(routes, request, response).catch((error: unknown) => {
      onError(error);
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
};
