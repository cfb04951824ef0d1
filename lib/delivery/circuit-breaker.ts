/**
 * A circuit breaker in front of Squadcast, one per deliver container. While Squadcast answers,
 * every send goes. After `opensAfter` transient failures in a row (5xx, 429, timeouts, network
 * errors; a refusal is an answer), the breaker opens: one send at a time, the probe, tests
 * Squadcast once per step, and every other record is held back unattempted, on the retry schedule
 * it would have had after a failed attempt (lib/delivery/deliver-record.ts). An outage then costs a
 * probe per step per container, not an attempt per alert. The first answer that is not a transient
 * failure closes it; the recovery watch (lib/delivery/recovery-watch.ts) then wakes what was held.
 *
 * The step grows with the outage: `stepShare` of the time Squadcast has been failing, between
 * `minStepMs` and `maxStepMs`. A short outage is noticed within half a second of its end, an
 * hour-long one within 4 s; after 17 hours it costs a probe a minute. A
 * probe that never answers (the send threw, the container stalled) gives its place up after
 * `probeTimeoutMs`. What it changes is measured on the simulated clock
 * (tests/unit/delivery/retry-budget.test.ts: attempts per alert per minute, the drain).
 */
export interface CircuitBreaker {
  /** While open and no probe is due: since when (epoch ms) Squadcast has been failing. Takes nothing. */
  holding(now: number): number | undefined;
  /** The right to send now: 'send' (closed), 'probe' (open, this send tests Squadcast), or held back (since when failing). */
  admit(now: number): Admission;
  /** The answer to an admitted send: `up` is any answer but a transient failure. */
  answered(admission: 'send' | 'probe', up: boolean, at: number): void;
}

export type Admission = 'send' | 'probe' | { readonly failingSince: number };

export interface CircuitBreakerOptions {
  /** Transient failures in a row that open the breaker. */
  readonly opensAfter: number;
  readonly minStepMs: number;
  readonly maxStepMs: number;
  /** The step's share of the time Squadcast has been failing. */
  readonly stepShare: number;
  /** A probe unanswered for this long gives its place up. */
  readonly probeTimeoutMs: number;
}

/**
 * deliver's settings. Five failures in a row: at the 35 % random failures of the fault drill that
 * happens once in 190 runs of five, and the next probe closes it again within half a second. A
 * probe every half second for the first 500 s of an outage, then 0.1 % of its length, at most one
 * a minute (half a second against 1 s: the real-time drain's p99 2.1 s against 2.3 s).
 */
export const circuitBreakerOptions = (squadcastTimeoutMs: number): CircuitBreakerOptions => ({
  opensAfter: 5,
  minStepMs: 500,
  maxStepMs: 60_000,
  stepShare: 0.001,
  probeTimeoutMs: squadcastTimeoutMs + 5_000,
});

export const createCircuitBreaker = (options: CircuitBreakerOptions): CircuitBreaker => {
  let failuresInARow = 0;
  /** The first transient failure of the current run; undefined while Squadcast answers. */
  let failingSince: number | undefined;
  let open = false;
  let nextProbeAt = 0;
  /** When the probe in flight was sent, if one is. */
  let probeSentAt: number | undefined;

  const stepAt = (at: number, since: number): number =>
    Math.min(options.maxStepMs, Math.max(options.minStepMs, (at - since) * options.stepShare));

  const probeDue = (now: number): boolean =>
    now >= nextProbeAt && (probeSentAt === undefined || now - probeSentAt >= options.probeTimeoutMs);

  const holding = (now: number): number | undefined => (open && !probeDue(now) ? failingSince : undefined);

  return {
    holding,
    admit: (now) => {
      if (!open) return 'send';
      const since = holding(now);
      if (since !== undefined) return { failingSince: since };
      probeSentAt = now;
      return 'probe';
    },
    answered: (admission, up, at) => {
      if (up) {
        failuresInARow = 0;
        failingSince = undefined;
        open = false;
        probeSentAt = undefined;
        return;
      }
      failuresInARow += 1;
      failingSince ??= at;
      if (admission === 'probe') probeSentAt = undefined;
      // A send admitted before the breaker opened and answered after adds no step: only a probe, or the opening, does.
      if (open && admission !== 'probe') return;
      if (failuresInARow < options.opensAfter) return;
      open = true;
      nextProbeAt = at + stepAt(at, failingSince);
    },
  };
};
