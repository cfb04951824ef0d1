import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { decodeWith } from '../lib/common/checked';
import type { Secret } from '../lib/common/secret';
import { matchToken } from '../lib/ingest/webhook-token';
import type { RelayStatus, StatusRequest } from '../lib/status/relay-status';
import { StatusRequestCodec } from '../lib/status/relay-status';
import { InvalidTestAlertEvent } from '../lib/test-alert/test-alert';
import { webhookEvent } from './api-gateway-event';
import type { LocalQueues } from './local-queues';
import { prefersHtml, renderStatusPage, STATUS_PAGE_CSP } from './status-page';

export interface LocalRoutes {
  ingest(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  /** The status function, with `{ alertId }` when `?alert=<id>` asks about one alert too. */
  status(request: StatusRequest): Promise<RelayStatus>;
  /**
   * The test-alert function: `POST /local/test-alert/{token}` with its (optional) JSON event. The
   * webhook token is required: the route puts an alert on the queue, which pages someone.
   */
  testAlert?: { readonly token: Secret; readonly previousToken?: Secret; invoke(event: unknown): Promise<unknown> };
  inbox?: { receive(key: string, body: string): { status: number; body: unknown }; list(): readonly unknown[] };
  /** What `npm run redrive -- --local` needs to reach the queues. */
  queues?: () => LocalQueues;
}

/** API Gateway's own payload limit: larger requests never reach the Lambda. */
const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;
/** The test alert's event is `{}` or `{"severity": n}`: 64 KiB is plenty. */
export const TEST_ALERT_MAX_BYTES = 64 * 1024;

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
  const event = webhookEvent({
    token,
    body,
    sourceIp: request.socket.remoteAddress ?? '',
    headers,
    multiValueHeaders,
    stage: 'local',
    requestId: `local-${Date.now()}`,
    httpMethod: request.method ?? 'POST',
  });
  // The path as requested (its token percent-encoded as sent), as API Gateway passes it.
  return { ...event, path, requestContext: { ...event.requestContext, path } };
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
    const alertId = url.searchParams.get('alert');
    const asked = decodeWith(StatusRequestCodec, alertId === null ? {} : { alertId });
    if (asked.kind === 'invalid') return sendJson(response, 400, { error: `?alert=: ${asked.problems.join('; ')}` });
    const status = await routes.status(asked.value);
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
  const testAlert = /^\/local\/test-alert(?:\/([^/]*))?$/.exec(url.pathname);
  if (routes.testAlert && testAlert && request.method === 'POST') {
    if (matchToken(decodeSegment(testAlert[1] ?? ''), routes.testAlert.token, routes.testAlert.previousToken) === undefined)
      return sendJson(response, 403, { error: 'forbidden: POST /local/test-alert/{webhook token}' });
    const read = await readBody(request, TEST_ALERT_MAX_BYTES);
    // Like the webhook: a body over the limit is refused, never ignored.
    if (read === undefined) return sendJson(response, 413, { error: `body is larger than ${TEST_ALERT_MAX_BYTES} bytes` });
    const body = read.toString('utf8').trim();
    let event: unknown = {};
    try {
      if (body !== '') event = JSON.parse(body);
    } catch {
      return sendJson(response, 400, { error: 'body is not valid JSON' });
    }
    try {
      return sendJson(response, 200, await routes.testAlert.invoke(event));
    } catch (error) {
      // Lambda reports a thrown error as a failed invocation; locally, a bad event is a 400.
      if (error instanceof InvalidTestAlertEvent) return sendJson(response, 400, { error: error.message });
      throw error;
    }
  }
  if (routes.inbox && url.pathname === '/local/incidents' && request.method === 'GET') return sendJson(response, 200, routes.inbox.list());
  if (routes.queues && url.pathname === '/local/queues' && request.method === 'GET') return sendJson(response, 200, routes.queues());
  const inboxPost = /^\/local\/squadcast\/([^/]*)$/.exec(url.pathname);
  if (routes.inbox && inboxPost && request.method === 'POST') {
    const body = await readBody(request, API_GATEWAY_MAX_BYTES);
    if (body === undefined) return sendJson(response, 413, { error: 'Request Too Long' });
    const answer = routes.inbox.receive(decodeSegment(inboxPost[1] ?? '') ?? '', body.toString('utf8'));
    return sendJson(response, answer.status, answer.body);
  }
  sendJson(response, 404, { error: 'not found' });
};

/**
 * Names under which the relay is its own host: a browser sends one of these only when the page
 * itself is on the relay. Anything else is another site's page reaching 127.0.0.1, or a DNS
 * rebinding attack (a hostile name resolving to 127.0.0.1 sends its own name as Host).
 */
export const ownHosts = (port: number): ReadonlySet<string> => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);

/**
 * Why a request does not come from the relay's own origin, or undefined when it does. Host must
 * name the relay; an Origin header, which a browser adds to every cross-origin request and every
 * POST, must be the relay's own. Tools (curl, Threat Stack through a tunnel that keeps the Host)
 * send no Origin.
 */
export const foreignRequest = (headers: IncomingMessage['headers'], port: number): string | undefined => {
  const hosts = ownHosts(port);
  const host = headers.host?.toLowerCase();
  if (host === undefined || !hosts.has(host))
    return 'the Host header does not name this relay (127.0.0.1, localhost or [::1] with its port)';
  const origin = headers.origin;
  if (origin !== undefined && !(origin.toLowerCase().startsWith('http://') && hosts.has(origin.toLowerCase().slice('http://'.length))))
    return 'requests from other origins (web pages) are refused';
  return undefined;
};

export interface HttpServerOptions {
  readonly port: number;
  readonly onError: (error: unknown) => void;
  /**
   * Slow clients are dropped: all headers within `headersTimeoutMs`, the whole request (body
   * included) within `requestTimeoutMs`, checked every `checkIntervalMs` (Node answers 408 and
   * closes the connection).
   */
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly checkIntervalMs?: number;
}

export interface LocalHttpServer {
  readonly server: Server;
  readonly port: number;
  /** Starts serving `routes`; until then every request is answered 503 (the relay is starting). */
  open(routes: LocalRoutes): void;
  /**
   * Stops accepting: new connections are refused, requests that still arrive on open connections
   * get 503 (send it again later) and their connection closed. Resolves when the requests already
   * being handled have been answered, or at `deadline` (epoch ms), whichever comes first; true
   * when none was left unanswered.
   */
  drain(deadline: number): Promise<boolean>;
  /**
   * The first step of a stop: every request is answered 503 (send it again later), except the local
   * Squadcast inbox's, so that deliveries still running reach it. Requests being handled go on.
   */
  refuseAllButInbox(): void;
  /** Closes every connection at once. */
  close(): void;
}

const HEADERS_TIMEOUT_MS = 10_000;
/** Generous for a 10 MiB body on a slow link; a body trickled slower than that is dropped. */
const REQUEST_TIMEOUT_MS = 60_000;
const CHECK_INTERVAL_MS = 1_000;

/** Where the local Squadcast inbox takes incidents (`/local/squadcast/{key}`). */
const INBOX_PATH = '/local/squadcast/';

export const startHttpServer = async (options: HttpServerOptions): Promise<LocalHttpServer> => {
  let state: 'starting' | 'open' | 'stopping' = 'starting';
  let inboxOnly = false;
  let routes: LocalRoutes | undefined;
  let active = 0;
  let idle: (() => void) | undefined;
  let port = 0;
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
      requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: options.checkIntervalMs ?? CHECK_INTERVAL_MS,
    },
    (request, response) => {
      const foreign = foreignRequest(request.headers, port);
      if (foreign !== undefined) return sendJson(response, 403, { error: `forbidden: ${foreign}` });
      if (state !== 'open' || routes === undefined || (inboxOnly && !request.url?.startsWith(INBOX_PATH))) {
        response.shouldKeepAlive = false;
        return sendJson(response, 503, { error: `the relay is ${state}; send it again in a moment` }, { 'retry-after': '5' });
      }
      active += 1;
      route(routes, request, response)
        .catch((error: unknown) => {
          options.onError(error);
          if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
          else response.end();
        })
        .finally(() => {
          active -= 1;
          if (active === 0) idle?.();
        });
    },
  );
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    open: (served) => {
      routes = served;
      if (state === 'starting') state = 'open';
    },
    refuseAllButInbox: () => {
      inboxOnly = true;
    },
    drain: async (deadline) => {
      state = 'stopping';
      server.close();
      server.closeIdleConnections();
      if (active === 0) return true;
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
        idle = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    },
    close: () => {
      state = 'stopping';
      server.close();
      server.closeAllConnections();
    },
  };
};
