import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * How the fake answers: 202 to everything (the default); 503 to everything (Squadcast down); or a
 * share of faults at random, a third each: 500, 429 (half of them with Retry-After: 1), and no
 * answer for `hangMs` (longer than the relay's SQUADCAST_TIMEOUT_MS: a timeout, nothing created).
 */
export type FakeBehaviour =
  | { readonly kind: 'accept' }
  | { readonly kind: 'down' }
  | { readonly kind: 'faults'; readonly rate: number; readonly random: () => number; readonly hangMs: number };

export interface FakeSquadcast {
  /** The Incident Webhook URL to configure (its last segment stands for the API key). */
  readonly url: string;
  /** When each incident arrived (performance.now() of this process), by `event_id`. */
  readonly arrivals: Map<string, number>;
  /** When each incident was answered 2xx (performance.now()), by `event_id`: two entries mean it was sent twice. */
  readonly accepted: Map<string, number[]>;
  /** Every request with an `event_id`: when it arrived, and its status (0: the relay hung up first). */
  readonly requests: Array<{ readonly eventId: string; readonly at: number; status: number }>;
  posts(): number;
  setDelayMs(ms: number): void;
  setBehaviour(behaviour: FakeBehaviour): void;
  stop(): Promise<void>;
}

type Answer = { readonly status: number; readonly headers?: Record<string, string>; readonly extraDelayMs?: number };

const answerFor = (behaviour: FakeBehaviour): Answer => {
  if (behaviour.kind === 'accept') return { status: 202 };
  if (behaviour.kind === 'down') return { status: 503 };
  const roll = behaviour.random();
  const third = behaviour.rate / 3;
  if (roll < third) return { status: 500 };
  if (roll < 1.5 * third) return { status: 429, headers: { 'retry-after': '1' } };
  if (roll < 2 * third) return { status: 429 };
  if (roll < behaviour.rate) return { status: 503, extraDelayMs: behaviour.hangMs };
  return { status: 202 };
};

const STATS_PATH = '/__bench/stats';

/**
 * Stands in for Squadcast on 127.0.0.1: every POST is answered 202 after `delayMs`, as a remote
 * API would, and its arrival time is recorded (when the whole body was received).
 */
export const startFakeSquadcast = async (delayMs: number): Promise<FakeSquadcast> => {
  let delay = delayMs;
  let posts = 0;
  let behaviour: FakeBehaviour = { kind: 'accept' };
  const arrivals = new Map<string, number>();
  const accepted = new Map<string, number[]>();
  const requests: FakeSquadcast['requests'] = [];
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === STATS_PATH) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ posts }));
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const arrived = performance.now();
      posts += 1;
      let eventId: unknown;
      try {
        eventId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event_id?: unknown }).event_id;
        if (typeof eventId === 'string' && !arrivals.has(eventId)) arrivals.set(eventId, arrived);
      } catch {
        // Not an incident: counted as a post all the same.
      }
      const answer = answerFor(behaviour);
      const logged = typeof eventId === 'string' ? { eventId, at: arrived, status: 0 } : undefined;
      if (logged) requests.push(logged);
      setTimeout(
        () => {
          if (request.socket.destroyed) return;
          if (logged) logged.status = answer.status;
          if (answer.status === 202 && typeof eventId === 'string')
            accepted.set(eventId, [...(accepted.get(eventId) ?? []), performance.now()]);
          response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          response.end(answer.status === 202 ? '{"status":"accepted"}' : '{"error":"fake"}');
        },
        delay + (answer.extraDelayMs ?? 0),
      );
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v2/incidents/api/BENCH-FAKE-KEY`,
    arrivals,
    accepted,
    requests,
    posts: () => posts,
    setDelayMs: (ms) => (delay = ms),
    setBehaviour: (next) => (behaviour = next),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** Reads how many POSTs the fake received, from any process. */
export const fetchSquadcastPosts = async (squadcastUrl: string): Promise<number> => {
  const response = await fetch(new URL(STATS_PATH, squadcastUrl));
  if (!response.ok) throw new Error(`fake Squadcast answered ${response.status}`);
  return Number(((await response.json()) as { posts?: unknown }).posts);
};
