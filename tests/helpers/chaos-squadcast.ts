import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake Squadcast Incident Webhook on 127.0.0.1 that misbehaves on purpose, and a ledger of
 * what it did. An incident "exists" once the fake has acted on a request (`created`), whether
 * or not the relay was still there to read the answer: that is how a real server behaves.
 */
export type Behaviour =
  | 'accept' // 202 at once
  | 'error-500'
  | 'throttle-retry-after' // 429 with Retry-After: 1
  | 'throttle' // 429 without Retry-After
  | 'slow-accept' // creates the incident, answers 202 after the relay's timeout
  | 'slow-fail' // answers 503 after the relay's timeout
  | 'reset' // drops the connection without an answer, nothing created
  | 'too-large'; // 413, for alerts the test marks as undeliverable

export interface ChaosRequest {
  readonly seq: number;
  readonly eventId: string | undefined;
  /** 1 for the first request for this event id, 2 for the next, and so on. */
  readonly attempt: number;
  readonly behaviour: Behaviour;
  readonly created: boolean;
  readonly receivedAt: number;
  answeredAt?: number;
  /** The relay had hung up (timed out, or was killed) before the answer was written. */
  clientGone?: boolean;
}

export interface ChaosOptions {
  readonly key: string;
  /**
   * The k-th request for an event id always meets the same behaviour for a given seed, whatever
   * order requests arrive in: the faults do not depend on the machine's speed.
   */
  readonly seed: number;
  /** Chance of each misbehaviour; the rest is 'accept'. */
  readonly odds: Partial<Record<Exclude<Behaviour, 'accept' | 'too-large'>, number>>;
  /** Alerts that Squadcast always refuses with 413. */
  readonly refuses: (eventId: string) => boolean;
  /** How long a slow answer takes (longer than the relay's SQUADCAST_TIMEOUT_MS). */
  readonly slowMs: number;
}

export interface ChaosSquadcast {
  readonly url: string;
  readonly requests: ChaosRequest[];
  /** Runs before a creating answer is written: the test may kill the relay here. */
  beforeCreatedAnswer(hook: ((request: ChaosRequest) => void) | undefined): void;
  /** From now on every request is accepted at once. */
  calm(): void;
  stop(): Promise<void>;
}

const eventIdOf = (body: string): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(body);
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).event_id : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
};

/** A number in [0, 1) that only the seed, the event id and the attempt decide. */
export const chaosRoll = (seed: number, eventId: string, attempt: number): number =>
  createHash('sha256').update(`${seed}:${eventId}:${attempt}`).digest().readUInt32BE(0) / 4_294_967_296;

export const startChaosSquadcast = async (options: ChaosOptions): Promise<ChaosSquadcast> => {
  const requests: ChaosRequest[] = [];
  const attempts = new Map<string, number>();
  let hook: ((request: ChaosRequest) => void) | undefined;
  let calm = false;

  const choose = (eventId: string | undefined, attempt: number): Behaviour => {
    if (eventId !== undefined && options.refuses(eventId)) return 'too-large';
    if (calm) return 'accept';
    let roll = chaosRoll(options.seed, eventId ?? '(none)', attempt);
    for (const [behaviour, odds] of Object.entries(options.odds) as Array<[Behaviour, number]>) {
      if (roll < odds) return behaviour;
      roll -= odds;
    }
    return 'accept';
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const eventId = eventIdOf(Buffer.concat(chunks).toString('utf8'));
      const attempt = (attempts.get(eventId ?? '') ?? 0) + 1;
      attempts.set(eventId ?? '', attempt);
      const behaviour = choose(eventId, attempt);
      const record: ChaosRequest = {
        seq: requests.length,
        eventId,
        attempt,
        behaviour,
        created: behaviour === 'accept' || behaviour === 'slow-accept',
        receivedAt: Date.now(),
      };
      requests.push(record);
      if (behaviour === 'reset') {
        request.socket.destroy();
        return;
      }
      const [status, headers]: [number, Record<string, string>] =
        behaviour === 'accept' || behaviour === 'slow-accept'
          ? [202, {}]
          : behaviour === 'error-500'
            ? [500, {}]
            : behaviour === 'throttle-retry-after'
              ? [429, { 'retry-after': '1' }]
              : behaviour === 'throttle'
                ? [429, {}]
                : behaviour === 'slow-fail'
                  ? [503, {}]
                  : [413, {}];
      const answer = (): void => {
        if (record.created) hook?.(record);
        record.answeredAt = Date.now();
        record.clientGone = request.socket.destroyed;
        if (record.clientGone) return;
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(status === 202 ? '{"status":"accepted"}' : '{"error":"chaos"}');
      };
      if (behaviour === 'slow-accept' || behaviour === 'slow-fail') setTimeout(answer, options.slowMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v2/incidents/api/${options.key}`,
    requests,
    beforeCreatedAnswer: (next) => (hook = next),
    calm: () => (calm = true),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
