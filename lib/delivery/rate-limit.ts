import { sleep as realSleep } from '../common/backoff';

/** Either send now, or put the record back on the queue for `delayMs`. */
export type Admission = { readonly kind: 'send' } | { readonly kind: 'later'; readonly delayMs: number };

/** The ceiling on how fast one deliver container POSTs to Squadcast. */
export interface SendRateLimiter {
  /** Waits (at most `maxWaitMs`) for this record's turn, or says when to try again. */
  admit(): Promise<Admission>;
  /** Squadcast asked us to slow down (Retry-After): nothing is sent before `ms` from now. */
  pauseFor(ms: number): void;
}

export interface RateLimiterOptions {
  /** Sends allowed in any 60-second window, for this limiter alone. */
  readonly perMinute: number;
  /** Longest a record waits in the invocation for its turn; beyond that it goes back to the queue. */
  readonly maxWaitMs: number;
  /**
   * How many limiters (deliver containers) serve the same queue, 1 by default. A record put back
   * comes back to any of them, and one container may end up putting back nearly all of them, so
   * put-backs are spread at the pace of all of them together, not at this one's share.
   */
  readonly limiters?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const MINUTE_MS = 60_000;

/**
 * A container's share of the account-wide ceiling. Lambda runs at most `invocations` deliver
 * containers at once (the event source mapping's maximumConcurrency), each with its own limiter,
 * so each gets 1/invocations of it: the sum never exceeds the ceiling.
 */
export const shareOfCeiling = (ceilingPerMinute: number, invocations: number): number => Math.floor(ceilingPerMinute / invocations);

/** A burst of a tenth of the minute's budget (1 to 10) lets a small storm go out without waiting. */
export const burstFor = (perMinute: number): number => Math.max(1, Math.min(10, Math.floor(perMinute / 10)));

/**
 * GCRA (the "virtual scheduling" token bucket): `burst` sends at once, then one every `interval`,
 * where interval = 60 s / (perMinute - burst + 1), rounded up to the millisecond. That schedule
 * puts at most `perMinute` sends in any 60-second window, which is how Squadcast counts (per
 * minute, per plan); sustained, it sends perMinute - burst + 1 a minute.
 * A record whose turn is further away than `maxWaitMs` is not sent: it gets a delay that puts
 * it back on the queue until roughly its turn, and the records put back are spread one
 * interval apart (divided by `limiters`) so that they do not all return at once, nor later than
 * all the containers together can take them.
 * https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm
 */
export const createRateLimiter = (options: RateLimiterOptions): SendRateLimiter => {
  if (!Number.isSafeInteger(options.perMinute) || options.perMinute < 1) throw new RangeError('perMinute must be a positive integer');
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const burst = burstFor(options.perMinute);
  // Whole milliseconds, rounded up: perMinute - burst + 1 intervals must span a full minute, never a hair less.
  const interval = Math.ceil(MINUTE_MS / (options.perMinute - burst + 1));
  const tolerance = (burst - 1) * interval;
  const putBackSpacing = interval / Math.max(1, options.limiters ?? 1);
  /** Theoretical arrival time of the next send: a send at t conforms when t >= tat - tolerance. */
  let tat = -Infinity;
  /** Squadcast's last Retry-After runs until then. */
  let pausedUntil = -Infinity;
  /** Where the next record put back on the queue is scheduled. */
  let deferredUntil = -Infinity;

  const putBack = (turn: number, at: number): Admission => {
    deferredUntil = Math.max(deferredUntil, turn);
    const delayMs = deferredUntil - at;
    deferredUntil += putBackSpacing;
    return { kind: 'later', delayMs };
  };

  return {
    admit: async () => {
      const at = now();
      const turn = Math.max(at, tat - tolerance, pausedUntil);
      if (turn - at > options.maxWaitMs) return putBack(turn, at);
      tat = Math.max(tat, turn) + interval;
      if (turn > at) await sleep(turn - at);
      // Another record may have met a Retry-After while this one waited for its turn.
      const woke = now();
      return woke < pausedUntil ? putBack(pausedUntil, woke) : { kind: 'send' };
    },
    pauseFor: (ms) => {
      if (!(ms > 0)) return;
      pausedUntil = Math.max(pausedUntil, now() + ms);
      // No burst when the pause ends: sending resumes one interval at a time.
      tat = Math.max(tat, pausedUntil + tolerance);
    },
  };
};
