import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface FakeSquadcast {
  /** The Incident Webhook URL to configure (its last segment stands for the API key). */
  readonly url: string;
  /** When each incident arrived (performance.now() of this process), by `event_id`. */
  readonly arrivals: Map<string, number>;
  posts(): number;
  setDelayMs(ms: number): void;
  stop(): Promise<void>;
}

const STATS_PATH = '/__bench/stats';

/**
 * Stands in for Squadcast on 127.0.0.1: every POST is answered 202 after `delayMs`, as a remote
 * API would, and its arrival time is recorded (when the whole body was received).
 */
export const startFakeSquadcast = async (delayMs: number): Promise<FakeSquadcast> => {
  let delay = delayMs;
  let posts = 0;
  const arrivals = new Map<string, number>();
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
      try {
        const eventId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event_id?: unknown }).event_id;
        if (typeof eventId === 'string' && !arrivals.has(eventId)) arrivals.set(eventId, arrived);
      } catch {
        // Not an incident: counted as a post all the same.
      }
      setTimeout(() => {
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end('{"status":"accepted"}');
      }, delay);
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v2/incidents/api/BENCH-FAKE-KEY`,
    arrivals,
    posts: () => posts,
    setDelayMs: (ms) => (delay = ms),
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
