import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A stand-in for Squadcast's Incident Webhook on 127.0.0.1, scripted per request: the one fake the
 * tests, the bench and the rehearsal share. It records every request (its `event_id`, which
 * attempt of that id it is, when it came and how it was answered) and answers what the responder
 * says: a status (with headers, after a delay), or a connection dropped with no answer.
 */

export interface SquadcastRequest {
  /** Its place among every request the fake received, from 0. */
  readonly seq: number;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The incident's `event_id`, when the body is JSON that has one. */
  readonly eventId: string | undefined;
  /** 1 for the first request with this `event_id`, 2 for the next, and so on. */
  readonly attempt: number;
  /** When the whole body had arrived: epoch ms, and `performance.now()` of this process. */
  readonly receivedAt: number;
  readonly arrivedAt: number;
  /** The status written (0 when the connection was dropped, or the relay had gone first); unset until then. */
  status?: number;
  /** When the answer was written (`performance.now()`). */
  answeredAt?: number;
  /** The relay had hung up (it timed out, or was killed) before the answer was written. */
  clientGone?: boolean;
}

/** How to answer one request: a status, or `reset` (the connection dropped, nothing answered). */
export type Answer = { readonly status: number; readonly headers?: Record<string, string>; readonly delayMs?: number } | 'reset';
export type Responder = (request: SquadcastRequest) => Answer;

export interface FakeSquadcastOptions {
  /** Stands for the API key: the last segment of the URL. */
  readonly key?: string;
  /** Added to every answer, as a remote API would take (default 0). */
  readonly delayMs?: number;
  readonly respond?: Responder;
}

export interface FakeSquadcast {
  /** The Incident Webhook URL an operator would configure (the key included). */
  readonly url: string;
  readonly key: string;
  readonly requests: SquadcastRequest[];
  /** When the first request of each `event_id` arrived (`performance.now()`). */
  readonly arrivals: ReadonlyMap<string, number>;
  respondWith(responder: Responder): void;
  setDelayMs(ms: number): void;
  /** Runs just before a 2xx is written: a test may kill the relay here (the incident exists, the answer is lost). */
  beforeAccepting(hook: ((request: SquadcastRequest) => void) | undefined): void;
  /** The requests with this `event_id` that were answered 2xx (two mean it was sent twice). */
  acceptedFor(eventId: string): SquadcastRequest[];
  stop(): Promise<void>;
}

export const ACCEPT: Responder = () => ({ status: 202 });

/** Where another process reads how many requests the fake had: `fetchSquadcastPosts`. */
const STATS_PATH = '/__fake-squadcast/stats';

const eventIdOf = (body: string): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(body);
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).event_id : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
};

export const startFakeSquadcast = async (options: FakeSquadcastOptions = {}): Promise<FakeSquadcast> => {
  const key = options.key ?? 'SQUADCAST-TEST-KEY-5f0c1d2e3a4b';
  const requests: SquadcastRequest[] = [];
  const attempts = new Map<string, number>();
  const arrivals = new Map<string, number>();
  let respond = options.respond ?? ACCEPT;
  let delayMs = options.delayMs ?? 0;
  let hook: ((request: SquadcastRequest) => void) | undefined;
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === STATS_PATH) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ posts: requests.length }));
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const eventId = eventIdOf(body);
      const attempt = (attempts.get(eventId ?? '') ?? 0) + 1;
      attempts.set(eventId ?? '', attempt);
      const received: SquadcastRequest = {
        seq: requests.length,
        path: request.url ?? '',
        headers: request.headers,
        body,
        eventId,
        attempt,
        receivedAt: Date.now(),
        arrivedAt: performance.now(),
      };
      requests.push(received);
      if (eventId !== undefined && !arrivals.has(eventId)) arrivals.set(eventId, received.arrivedAt);
      const answer = respond(received);
      if (answer === 'reset') {
        received.status = 0;
        request.socket.destroy();
        return;
      }
      setTimeout(
        () => {
          if (answer.status >= 200 && answer.status < 300) hook?.(received);
          received.answeredAt = performance.now();
          received.clientGone = request.socket.destroyed;
          received.status = received.clientGone ? 0 : answer.status;
          if (received.clientGone) return;
          response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          response.end(answer.status >= 200 && answer.status < 300 ? '{"status":"accepted"}' : '{"error":"fake"}');
        },
        delayMs + (answer.delayMs ?? 0),
      );
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v2/incidents/api/${key}`,
    key,
    requests,
    arrivals,
    respondWith: (next) => (respond = next),
    setDelayMs: (ms) => (delayMs = ms),
    beforeAccepting: (next) => (hook = next),
    acceptedFor: (eventId) => requests.filter((r) => r.eventId === eventId && r.status !== undefined && r.status >= 200 && r.status < 300),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** How many requests the fake at `squadcastUrl` has had, read from any process. */
export const fetchSquadcastPosts = async (squadcastUrl: string): Promise<number> => {
  const response = await fetch(new URL(STATS_PATH, squadcastUrl));
  if (!response.ok) throw new Error(`fake Squadcast answered ${response.status}`);
  return Number(((await response.json()) as { posts?: unknown }).posts);
};
