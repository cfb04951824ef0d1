import fc from 'fast-check';
import { percentile } from '../../../bench/stats';
import { seededRandom } from '../../../devkit/seeded-random';
import { IN_FLIGHT_RECHECK_SECONDS } from '../../../lib/delivery/lease-budget';
import type { RetryPolicy } from '../../../lib/delivery/retry-budget';
import {
  BACKSTOP_MARGIN_SECONDS,
  BACKSTOP_RECEIVES,
  deferralSeconds,
  describeWait,
  floorStepSeconds,
  MAX_GIVE_UP_HOURS,
  putBackFloorSeconds,
  QUEUE_RETENTION_HOURS,
  retryDelaySeconds,
  retryPolicyFrom,
  retryStepSeconds,
} from '../../../lib/delivery/retry-budget';
import type { SendOutcome } from '../../../lib/delivery/send-outcome';
import type { SimulatedAnswer } from '../../helpers/delivery-simulation';
import { maxInWindow, simulateRelay } from '../../helpers/delivery-simulation';

// A hang guard, not a speed check: the day-long simulations take 3 to 5 s alone, but 35 to 100 s in
// a full `npm test` with a core kept busy beside it (seen in the busy-core runs), past jest's 60 s.
jest.setTimeout(300_000);

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

const accepted: SimulatedAnswer = { latencyMs: 150, outcome: { kind: 'delivered', status: 202 } };
const down: SimulatedAnswer = { latencyMs: 5, outcome: { kind: 'transient', reason: 'network error (ECONNREFUSED)', failure: 'network' } };

/** 35 % faults, a third each: 500, 429 (half with Retry-After: 1), a timeout after SQUADCAST_TIMEOUT_MS (8 s). */
const faulty = (random: () => number) => (): SimulatedAnswer => {
  const roll = random();
  const fault = (outcome: SendOutcome, latencyMs = 100): SimulatedAnswer => ({ latencyMs, outcome });
  if (roll < 0.35 / 3) return fault({ kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' });
  if (roll < 0.35 / 2) return fault({ kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: 1_000 });
  if (roll < (2 * 0.35) / 3) return fault({ kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled' });
  if (roll < 0.35) return fault({ kind: 'transient', reason: 'Squadcast request timed out', failure: 'timeout' }, 8_000);
  return accepted;
};

/** Percentiles as `npm run bench:recovery` computes them (bench/stats.ts: linear between closest ranks). */
const figures = (values: readonly number[]) => ({
  p50: percentile(values, 50) / SECOND,
  p99: percentile(values, 99) / SECOND,
  max: Math.max(...values) / SECOND,
});

// The shipped defaults (lib/config/env.ts): steps of half the alert's age from 2 s to 300 s, give up after 24 h.
const POLICY: RetryPolicy = { baseSeconds: 2, maxSeconds: 300, giveUpSeconds: 24 * 3_600, inFlightSeconds: 45 };
const withBudget = (hours: number): RetryPolicy => ({ ...POLICY, giveUpSeconds: hours * 3_600 });

describe('retryPolicyFrom', () => {
  it.each<[number, number]>([
    [45_000, 10],
    [7_500, 8],
    [2_000, 2],
  ])('a lease of %p ms is looked at again after %p s at most (the holder usually finishes within a POST)', (leaseMs, seconds) => {
    const policy = retryPolicyFrom({ retryBaseSeconds: 2, retryMaxSeconds: 300, giveUpHours: 24, leaseMs });
    expect(policy).toEqual({ baseSeconds: 2, maxSeconds: 300, giveUpSeconds: 86_400, inFlightSeconds: seconds });
    expect(IN_FLIGHT_RECHECK_SECONDS).toBe(10);
  });
});

describe('the retry schedule', () => {
  test.each<[number, number, number]>([
    [0, 1, 2],
    [3, 1, 2],
    [10, 2, 4],
    [10, 3, 5],
    [180, 20, 90],
    // Three minutes in a busy queue before a first failure: still a quick retry.
    [180, 1, 2],
    [600, 20, 300],
    [86_400, 400, 300],
    // A day behind the rate ceiling, 300 deferrals, then a first failure: the cap, not more.
    [86_400, 300, 300],
    [-5, 1, 2],
  ])('an alert that has waited %p s, on its receive %p, steps %p s', (age, receiveCount, step) => {
    expect(retryStepSeconds(age, receiveCount, POLICY)).toBe(step);
  });

  test('waits half to all of the step, at least Retry-After up to the largest step, at least the floor', () => {
    expect(retryDelaySeconds(180, 20, POLICY, () => 0)).toBe(45);
    expect(retryDelaySeconds(180, 20, POLICY, () => 1)).toBe(90);
    expect(retryDelaySeconds(0, 1, POLICY, () => 0.5, 120)).toBe(120);
    expect(retryDelaySeconds(0, 1, POLICY, () => 0.5, 86_400)).toBe(300);
    expect(retryDelaySeconds(0, 900, POLICY, () => 0)).toBeCloseTo(900 * floorStepSeconds(POLICY), 6);
    expect(deferralSeconds(12.5, 1, POLICY)).toBe(12.5);
    expect(deferralSeconds(0, 1_000, POLICY)).toBeCloseTo(179.82, 2);
  });

  test('"24 h 3 min", "4 min 10 s"', () => {
    expect([describeWait(86_585), describeWait(250), describeWait(-1), describeWait(86_400)]).toEqual([
      '24 h 3 min',
      '4 min 10 s',
      '0 min 0 s',
      '24 h 0 min',
    ]);
  });
});

describe('the maxReceiveCount backstop (1000) cannot be reached by attempts and deferrals within the budget', () => {
  test.each([1, 24, MAX_GIVE_UP_HOURS])(
    'budget %p h: the floors of 1000 put-backs add up to the budget plus an hour, and stay under the 14-day retention',
    (hours) => {
      const policy = withBudget(hours);
      let sum = 0;
      for (let k = 1; k <= BACKSTOP_RECEIVES; k++) sum += putBackFloorSeconds(k, policy);
      expect(sum).toBeCloseTo(hours * 3_600 + BACKSTOP_MARGIN_SECONDS, 3);
      expect(sum).toBeLessThan(QUEUE_RETENTION_HOURS * 3_600);
    },
  );

  test('the default floor: about 0.18 s a receive, 180 s at the 1000th (the visibility timeout)', () => {
    expect(floorStepSeconds(POLICY)).toBeCloseTo((2 * 90_000) / (1_000 * 1_001), 9);
    expect(putBackFloorSeconds(BACKSTOP_RECEIVES, POLICY)).toBeLessThanOrEqual(180);
  });

  test('whatever the mix of failed attempts (any age, jitter, Retry-After) and deferrals (any delay, even none), the backstop acts only after the budget plus an hour', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_GIVE_UP_HOURS }),
        fc.array(
          fc.record({
            deferral: fc.boolean(),
            seconds: fc.double({ min: 0, max: 600, noNaN: true }),
            random: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          {
            minLength: BACKSTOP_RECEIVES,
            maxLength: BACKSTOP_RECEIVES,
          },
        ),
        (hours, putBacks) => {
          const policy = withBudget(hours);
          // After its k-th receive a message is put back; the (1000 + 1)-th receive is the one SQS turns into a move.
          let at = 0;
          putBacks.forEach(({ deferral, seconds, random }, i) => {
            const receiveCount = i + 1;
            at += deferral
              ? deferralSeconds(seconds, receiveCount, policy)
              : retryDelaySeconds(at, receiveCount, policy, () => random, seconds);
          });
          expect(at).toBeGreaterThanOrEqual(policy.giveUpSeconds + BACKSTOP_MARGIN_SECONDS - 1e-6);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the shipped schedule itself: a day of failed attempts at the shortest jitter takes well under 1000 receives', () => {
    let at = 0;
    let receives = 0;
    while (at < POLICY.giveUpSeconds + BACKSTOP_MARGIN_SECONDS) {
      receives += 1;
      at += retryDelaySeconds(at, receives, POLICY, () => 0);
    }
    // Every deferral also waits 10 s or more (the limiter's in-invocation wait), and never fewer than k x 0.18 s.
    console.log(`backstop: 25 h of failed attempts, every gap at its shortest, takes ${receives} receives of ${BACKSTOP_RECEIVES}`);
    expect(receives).toBeLessThan(700);
  });
});

describe('recovery on the simulated clock (the ceiling lifted to 6000 a minute, 2 deliver containers)', () => {
  test('300 alerts under 35 % random 500/429/timeouts: p99 from acceptance to incident within 120 s, each once', async () => {
    const random = seededRandom(20_261_201);
    // 30 batches of 10, one every 6 s (as `npm run bench:recovery` sends them).
    const arrivals = Array.from({ length: 300 }, (_, i) => Math.floor(i / 10) * 6 * SECOND);
    const run = await simulateRelay({ arrivals, squadcast: faulty(random), ceilingPerMinute: 6_000, random, maxVirtualMs: 2 * HOUR });
    const waits = [...run.queuedAt].map(([id, at]) => (run.deliveredAt.get(id) ?? NaN) - at);
    const f = figures(waits);
    const attempts = run.sends.length;
    console.log(
      `fault run (simulated): alerts=300 faults=35% attempts=${attempts} (${(attempts / 300).toFixed(2)} per alert) accepted->incident p50=${f.p50.toFixed(1)}s p99=${f.p99.toFixed(1)}s max=${f.max.toFixed(1)}s deadLettered=${run.deadLetters.bodies.length}`,
    );
    expect(run.deliveredAt.size).toBe(300);
    expect(run.sends.filter((s) => s.outcome === 'delivered')).toHaveLength(300);
    expect(run.deadLetters.bodies).toHaveLength(0);
    expect(f.p99).toBeLessThanOrEqual(120);
  });

  test.each([
    { watch: 'with', withoutRecoveryWatch: false, breaker: 'with', withoutBreaker: false },
    { watch: 'with', withoutRecoveryWatch: false, breaker: 'without', withoutBreaker: true },
    { watch: 'without', withoutRecoveryWatch: true, breaker: 'with', withoutBreaker: false },
  ])(
    'a 3-minute total outage ($watch the recovery watch, $breaker the circuit breaker): every alert accepted during it arrives once, p99 within 120 s of recovery',
    async ({ watch, withoutRecoveryWatch, breaker, withoutBreaker }) => {
      const random = seededRandom(8_001);
      const outage = { from: MINUTE, to: 4 * MINUTE };
      // One alert a second for 5 minutes, 180 of them during the outage (as `npm run bench:recovery` sends them).
      const arrivals = Array.from({ length: 300 }, (_, i) => i * SECOND);
      const squadcast = (at: number): SimulatedAnswer => (at >= outage.from && at < outage.to ? down : accepted);
      const run = await simulateRelay({
        arrivals,
        squadcast,
        ceilingPerMinute: 6_000,
        random,
        withoutRecoveryWatch,
        withoutBreaker,
        maxVirtualMs: 2 * HOUR,
      });
      const during = [...run.queuedAt].filter(([, at]) => at >= outage.from && at < outage.to).map(([id]) => id);
      const f = figures(during.map((id) => (run.deliveredAt.get(id) ?? NaN) - outage.to));
      const attempts = run.sends.filter((s) => s.at >= outage.from && s.at < outage.to).length;
      const twice = run.sends.filter((s) => s.outcome === 'delivered').length - run.deliveredAt.size;
      console.log(
        `3-minute outage (simulated, ${watch} the recovery watch, ${breaker} the circuit breaker): accepted during it=${during.length} attempts during it=${attempts} (${(attempts / during.length / 3).toFixed(2)} per alert per minute) delivered after recovery p50=${f.p50.toFixed(1)}s p99=${f.p99.toFixed(1)}s max=${f.max.toFixed(1)}s deadLettered=${run.deadLetters.bodies.length} twice=${twice}`,
      );
      expect(during).toHaveLength(180);
      expect(run.deliveredAt.size).toBe(300);
      expect(twice).toBe(0);
      expect(run.deadLetters.bodies).toHaveLength(0);
      expect(f.p99).toBeLessThanOrEqual(120);
      // The schedule alone keeps the target (a recycled container forgets what it parked); the watch makes it seconds.
      if (!withoutRecoveryWatch) expect(f.max).toBeLessThanOrEqual(10);
      // With the breaker the outage costs probes: at most two a second per container (and the sends that opened it), not an attempt per alert.
      if (!withoutBreaker) expect(attempts).toBeLessThanOrEqual(2 * (2 * 180 + 5 + 10));
      else expect(attempts).toBeGreaterThan(3 * during.length);
    },
  );
});

describe('outages at the shipped defaults (150 a minute, 2 deliver containers)', () => {
  test('a 24-hour outage: ridden out, delivered after recovery, then the alert still failing after the budget is dead-lettered with its reason', async () => {
    const random = seededRandom(24);
    const outageEnd = 24 * HOUR;
    // 100 alerts spread over the outage (one every 14.4 min, the first as it starts); alert-0 keeps failing afterwards.
    const arrivals = Array.from({ length: 100 }, (_, i) => i * 864 * SECOND);
    const failing: SimulatedAnswer = {
      latencyMs: 150,
      outcome: { kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' },
    };
    const squadcast = (at: number, eventId: string): SimulatedAnswer => (at < outageEnd || eventId === 'alert-0' ? failing : accepted);
    const started = performance.now();
    const run = await simulateRelay({ arrivals, squadcast, ceilingPerMinute: 150, random, maxVirtualMs: 30 * HOUR });
    const ms = performance.now() - started;
    const during = run.sends.filter((s) => s.at < outageEnd);
    const perAlert = [...run.queuedAt.keys()].map((id) => during.filter((s) => s.eventId === id).length);
    const afterRecovery = [...run.deliveredAt.values()].map((at) => at - outageEnd);
    const f = figures(afterRecovery);
    const letter = JSON.parse(run.deadLetters.bodies[0] ?? '{}') as { alert?: { id: string }; failure?: { reason: string; at: string } };
    const gaveUpAfter = Date.parse(letter.failure?.at ?? '') - (run.queuedAt.get('alert-0') ?? NaN);
    console.log(
      `24-hour outage (simulated, ${(ms / 1000).toFixed(1)} s): alerts=100 deadLettered during it=${run.deadLetters.bodies.filter((b) => Date.parse(JSON.parse(b).failure.at) < outageEnd).length} attempts during it=${during.length} (per alert mean ${(during.length / 100).toFixed(0)}, max ${Math.max(...perAlert)}) highest receive count=${run.queue.maxReceiveCountSeen} of ${1000}; delivered after recovery ${run.deliveredAt.size}/99 p50=${f.p50.toFixed(1)}s p99=${f.p99.toFixed(1)}s max=${f.max.toFixed(1)}s; the failing alert dead-lettered after ${(gaveUpAfter / HOUR).toFixed(2)} h: "${letter.failure?.reason}"`,
    );
    expect(during.filter((s) => s.outcome === 'delivered')).toHaveLength(0);
    expect(run.deliveredAt.size).toBe(99);
    expect(run.sends.filter((s) => s.outcome === 'delivered')).toHaveLength(99);
    expect(afterRecovery.every((ms) => ms >= 0 && ms <= 5 * MINUTE)).toBe(true);
    expect(run.deadLetters.bodies).toHaveLength(1);
    expect(letter.alert?.id).toBe('alert-0');
    expect(letter.failure?.reason).toMatch(
      /^Squadcast answered 503; still failing after 24 h \d+ min in the queue \(give-up budget 24 h 0 min\)$/,
    );
    expect(gaveUpAfter).toBeGreaterThanOrEqual(24 * HOUR);
    expect(gaveUpAfter).toBeLessThanOrEqual(24 * HOUR + 5 * MINUTE);
    expect(run.queue.redriven).toHaveLength(0);
    // Modest: an alert waiting through the whole day is tried about once every 3.75 minutes.
    expect(Math.max(...perAlert)).toBeLessThanOrEqual(450);
  });

  test.each([
    { backlog: 1_200, retryAfterMs: 0 },
    { backlog: 200, retryAfterMs: 0 },
    { backlog: 1_200, retryAfterMs: 60_000 },
  ])(
    'after an hour down with $backlog alerts waiting (Retry-After $retryAfterMs ms), the drain runs at the ceiling from the start',
    async ({ backlog, retryAfterMs }) => {
      const random = seededRandom(backlog + retryAfterMs);
      const outageEnd = HOUR;
      const arrivals = Array.from({ length: backlog }, (_, i) => i * (outageEnd / backlog));
      const refused: SimulatedAnswer = {
        latencyMs: 150,
        outcome: {
          kind: 'transient',
          reason: 'Squadcast answered 503',
          failure: 'server-error',
          ...(retryAfterMs > 0 ? { retryAfterMs } : {}),
        },
      };
      const run = await simulateRelay({
        arrivals,
        squadcast: (at) => (at < outageEnd ? refused : accepted),
        ceilingPerMinute: 150,
        random,
        maxVirtualMs: 10 * HOUR,
      });
      const delivered = [...run.deliveredAt.values()].map((at) => at - outageEnd);
      const last = Math.max(...delivered);
      const perMinute = Array.from(
        { length: Math.ceil(last / MINUTE) },
        (_, m) => delivered.filter((d) => d >= m * MINUTE && d < (m + 1) * MINUTE).length,
      );
      // Each of the 2 containers sends 75 a minute: a burst of 7, then one every ceil(60 s / 69).
      const pace = 2 * (MINUTE / Math.ceil(MINUTE / 69));
      const idealMs = (backlog / pace) * MINUTE;
      console.log(
        `drain after a 1-hour outage (simulated, 150 a minute): backlog=${backlog} retryAfter=${retryAfterMs / SECOND}s delivered per minute=${perMinute.join(',')} (ceiling pace ${pace.toFixed(0)}) all delivered after ${(last / SECOND).toFixed(0)}s (at the ceiling's pace: ${(idealMs / SECOND).toFixed(0)}s) attempts=${run.sends.length} busiest minute=${maxInWindow(
          run.sends.map((s) => s.at),
          MINUTE,
        )}`,
      );
      expect(run.deliveredAt.size).toBe(backlog);
      expect(run.sends.filter((s) => s.outcome === 'delivered')).toHaveLength(backlog);
      expect(run.deadLetters.bodies).toHaveLength(0);
      expect(
        maxInWindow(
          run.sends.map((s) => s.at),
          MINUTE,
        ),
      ).toBeLessThanOrEqual(150);
      // Every full minute runs at 90 % of the pace or more, and no alert is parked beyond the drain: it ends within a minute of
      // the ideal. Squadcast's Retry-After, when it sent one, is obeyed first: up to a minute here.
      for (const count of perMinute.slice(retryAfterMs > 0 ? 1 : 0, -1)) expect(count).toBeGreaterThanOrEqual(0.9 * pace);
      expect(last).toBeLessThanOrEqual(idealMs + retryAfterMs + MINUTE);
    },
  );
});
