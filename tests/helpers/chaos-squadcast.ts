import { createHash } from 'node:crypto';
import type { Answer, SquadcastRequest } from '../../devkit/fake-squadcast';
import { startFakeSquadcast } from '../../devkit/fake-squadcast';

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

/** A request as the fake recorded it (devkit/fake-squadcast.ts), with the behaviour it met. */
export interface ChaosRequest extends SquadcastRequest {
  readonly behaviour: Behaviour;
  /** Whether the fake acted on it (an incident now exists), answered or not. */
  readonly created: boolean;
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

/** A number in [0, 1) that only the seed, the event id and the attempt decide. */
export const chaosRoll = (seed: number, eventId: string, attempt: number): number =>
  createHash('sha256').update(`${seed}:${eventId}:${attempt}`).digest().readUInt32BE(0) / 4_294_967_296;

const ANSWERS: Readonly<Record<Behaviour, (slowMs: number) => Answer>> = {
  accept: () => ({ status: 202 }),
  'error-500': () => ({ status: 500 }),
  'throttle-retry-after': () => ({ status: 429, headers: { 'retry-after': '1' } }),
  throttle: () => ({ status: 429 }),
  'slow-accept': (slowMs) => ({ status: 202, delayMs: slowMs }),
  'slow-fail': (slowMs) => ({ status: 503, delayMs: slowMs }),
  reset: () => 'reset',
  'too-large': () => ({ status: 413 }),
};

export const startChaosSquadcast = async (options: ChaosOptions): Promise<ChaosSquadcast> => {
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
  const fake = await startFakeSquadcast({
    key: options.key,
    respond: (request) => {
      const behaviour = choose(request.eventId, request.attempt);
      Object.assign(request, { behaviour, created: behaviour === 'accept' || behaviour === 'slow-accept' });
      return ANSWERS[behaviour](options.slowMs);
    },
  });
  return {
    url: fake.url,
    requests: fake.requests as ChaosRequest[],
    beforeCreatedAnswer: (hook) => fake.beforeAccepting(hook as ((request: SquadcastRequest) => void) | undefined),
    calm: () => (calm = true),
    stop: () => fake.stop(),
  };
};
