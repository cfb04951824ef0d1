import fc from 'fast-check';
import type { Alert } from '../../../lib/alert/codec';
import { deliverBatch } from '../../../lib/delivery/deliver-batch';
import { readDeliverConfig } from '../../../lib/delivery/deliver-config';
import type { Admission } from '../../../lib/delivery/rate-limit';
import { burstFor, createRateLimiter, shareOfCeiling } from '../../../lib/delivery/rate-limit';
import type { DeliverDeps } from '../../../lib/delivery/record-outcome';
import { BACKSTOP_RECEIVES } from '../../../lib/delivery/retry-budget';
import type { SendOutcome } from '../../../lib/delivery/send-outcome';
import type { SquadcastIncident } from '../../../lib/incident/to-incident';
import {
  collectingQueue,
  maxInWindow,
  runContainer,
  SimulatedLedger,
  SimulatedQueue,
  silentLogger,
  VirtualClock,
} from '../../helpers/delivery-simulation';
import { inertDeliverDeps } from '../../helpers/fakes';

const MINUTE = 60_000;

const limiterOn = (clock: VirtualClock, perMinute: number, maxWaitMs = 10_000) =>
  createRateLimiter({ perMinute, maxWaitMs, now: () => clock.now, sleep: clock.sleep });

/** Calls `admit` at the given virtual times; returns when each call was sent, or its delay. */
const admitAt = async (clock: VirtualClock, limiter: ReturnType<typeof limiterOn>, arrivals: readonly number[]) => {
  const results: Array<{ arrived: number; admission?: Admission; at?: number }> = arrivals.map((arrived) => ({ arrived }));
  const calls = results.map(async (result) => {
    await clock.sleep(result.arrived);
    result.admission = await limiter.admit();
    result.at = clock.now;
  });
  await clock.run(() => results.every((result) => result.admission !== undefined), 10 * 24 * 3_600_000);
  await Promise.all(calls);
  return results;
};

describe('createRateLimiter', () => {
  test('lets a burst of a tenth of the budget out at once, then one send per interval', async () => {
    const clock = new VirtualClock();
    const limiter = limiterOn(clock, 60);
    expect(burstFor(60)).toBe(6);
    const results = await admitAt(
      clock,
      limiter,
      Array.from({ length: 8 }, () => 0),
    );
    expect(results.map((r) => r.admission?.kind)).toEqual(Array.from({ length: 8 }, () => 'send'));
    const interval = Math.ceil(MINUTE / (60 - 6 + 1));
    expect(results.map((r) => r.at)).toEqual([0, 0, 0, 0, 0, 0, interval, 2 * interval]);
  });

  test('never puts more than perMinute sends in any 60-second window, and a record waits at most maxWaitMs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_200 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.array(fc.integer({ min: 0, max: 5 * MINUTE }), { minLength: 1, maxLength: 300 }),
        async (perMinute, maxWaitMs, arrivals) => {
          const clock = new VirtualClock();
          const results = await admitAt(clock, limiterOn(clock, perMinute, maxWaitMs), arrivals);
          const sent = results.filter((r) => r.admission?.kind === 'send');
          expect(
            maxInWindow(
              sent.map((r) => r.at ?? NaN),
              MINUTE,
            ),
          ).toBeLessThanOrEqual(perMinute);
          for (const r of sent) expect((r.at ?? NaN) - r.arrived).toBeLessThanOrEqual(maxWaitMs);
          for (const r of results) if (r.admission?.kind === 'later') expect(r.admission.delayMs).toBeGreaterThan(maxWaitMs);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('uses its budget: under steady demand it sends perMinute - burst + 1 a minute, plus the first burst', async () => {
    const clock = new VirtualClock();
    // One record arriving every 100 ms for 10 minutes, far more than 150 a minute; each may wait 1 s.
    const results = await admitAt(
      clock,
      limiterOn(clock, 150, 1_000),
      Array.from({ length: 6_000 }, (_, i) => i * 100),
    );
    const sent = results.filter((r) => r.admission?.kind === 'send').length;
    const sustained = 150 - burstFor(150) + 1;
    expect(sent).toBeGreaterThanOrEqual(sustained * 10);
    expect(sent).toBeLessThanOrEqual(sustained * 10 + burstFor(150));
  });

  test('records beyond the wait are put back one interval apart, not all for the same moment', async () => {
    const clock = new VirtualClock();
    const results = await admitAt(
      clock,
      limiterOn(clock, 12, 0),
      Array.from({ length: 5 }, () => 0),
    );
    // Burst 1, interval 60 s / 12: the first goes, the others come back 5, 10, 15, 20 s later.
    expect(results.map((r) => r.admission)).toEqual([
      { kind: 'send' },
      { kind: 'later', delayMs: 5_000 },
      { kind: 'later', delayMs: 10_000 },
      { kind: 'later', delayMs: 15_000 },
      { kind: 'later', delayMs: 20_000 },
    ]);
  });

  test('with several limiters on one queue, records are put back at the pace of all of them together', async () => {
    // One of two containers may be the one that puts nearly every record back; they come back to either.
    const clock = new VirtualClock();
    const limiter = createRateLimiter({ perMinute: 12, maxWaitMs: 0, limiters: 2, now: () => clock.now, sleep: clock.sleep });
    const results = await admitAt(
      clock,
      limiter,
      Array.from({ length: 4 }, () => 0),
    );
    expect(results.map((r) => r.admission)).toEqual([
      { kind: 'send' },
      { kind: 'later', delayMs: 5_000 },
      { kind: 'later', delayMs: 7_500 },
      { kind: 'later', delayMs: 10_000 },
    ]);
  });

  test('a Retry-After pause holds back every send, also one already waiting for its turn, and ends without a burst', async () => {
    const clock = new VirtualClock();
    const limiter = limiterOn(clock, 600, 10_000);
    // A burst of 10 goes at once; the eleventh waits for its turn.
    const first = await admitAt(
      clock,
      limiter,
      Array.from({ length: 11 }, () => 0),
    );
    expect(first.map((r) => r.admission?.kind)).toEqual(Array.from({ length: 11 }, () => 'send'));
    const interval = Math.ceil(MINUTE / (600 - 10 + 1));
    expect(clock.now).toBe(interval);

    // The twelfth is waiting for its turn when another record meets a 30 s Retry-After.
    const pauseStart = clock.now;
    let twelfth: Admission | undefined;
    void limiter.admit().then((admission) => (twelfth = admission));
    limiter.pauseFor(30_000);
    await clock.run(() => twelfth !== undefined, MINUTE);
    expect(twelfth).toEqual({ kind: 'later', delayMs: pauseStart + 30_000 - clock.now });

    // Three more arrive 25 s into the pause: they go when it ends, one interval apart.
    const later = await admitAt(
      clock,
      limiter,
      Array.from({ length: 3 }, () => pauseStart + 25_000 - clock.now),
    );
    expect(later.map((r) => r.admission?.kind)).toEqual(['send', 'send', 'send']);
    expect(later.map((r) => (r.at ?? NaN) - pauseStart)).toEqual([30_000, 30_000 + interval, 30_000 + 2 * interval]);
  });

  test('refuses a ceiling it cannot keep', () => {
    expect(() => createRateLimiter({ perMinute: 0, maxWaitMs: 0 })).toThrow(RangeError);
    expect(shareOfCeiling(150, 2)).toBe(75);
    expect(shareOfCeiling(15, 2)).toBe(7);
  });
});

// ---------------------------------------------------------------------------------------------
// The ceiling across concurrent deliveries: Lambda containers, each with its own limiter, driven
// by a simulated event source mapping over a simulated SQS queue, with the real deliverBatch.

const alert = (id: string): Alert => ({
  id,
  title: `t ${id}`,
  created_at: 1_700_000_000_000,
  severity: 2,
  organization_id: 'o',
  server_or_region: 'h',
  source: 'Host',
});

interface Simulation {
  readonly sends: Array<{ readonly at: number; readonly container: number; readonly eventId: string }>;
  readonly answers: Array<{ readonly at: number; readonly container: number; readonly outcome: SendOutcome }>;
  readonly queue: SimulatedQueue;
  readonly ledger: SimulatedLedger;
  readonly deadLetters: ReturnType<typeof collectingQueue>;
  readonly clock: VirtualClock;
}

const simulate = async (options: {
  readonly alerts: number;
  readonly ceiling: number;
  readonly containers: number;
  readonly answer?: (at: number) => SendOutcome;
  readonly maxVirtualMs: number;
}): Promise<Simulation> => {
  const clock = new VirtualClock();
  // deliver's settings in serverless.yml: visibility 180 s, maxReceiveCount 1000, lease 45 s.
  const queue = new SimulatedQueue(clock, 180_000, BACKSTOP_RECEIVES);
  const ledger = new SimulatedLedger(clock, 45_000);
  const deadLetters = collectingQueue();
  const sends: Simulation['sends'] = [];
  const answers: Simulation['answers'] = [];
  for (let i = 0; i < options.alerts; i++) queue.send(JSON.stringify({ alert: alert(`a-${i}`) }));
  const delivered = (): boolean => queue.messages.size === 0;

  const depsFor = (container: number): DeliverDeps => ({
    ...inertDeliverDeps(),
    sink: {
      send: async (incident: SquadcastIncident) => {
        sends.push({ at: clock.now, container, eventId: incident.event_id });
        await clock.sleep(150);
        const outcome = options.answer?.(clock.now) ?? { kind: 'delivered', status: 202 };
        answers.push({ at: clock.now, container, outcome });
        return outcome;
      },
    },
    ledger,
    deadLetters,
    retries: queue.retries,
    retryPolicy: { baseSeconds: 2, maxSeconds: 300, giveUpSeconds: 86_400, inFlightSeconds: 45 },
    concurrency: 10,
    log: silentLogger,
    now: () => new Date(clock.now),
    random: () => 0.5,
    rateLimit: createRateLimiter({
      perMinute: shareOfCeiling(options.ceiling, options.containers),
      maxWaitMs: 10_000,
      limiters: options.containers,
      now: () => clock.now,
      sleep: clock.sleep,
    }),
  });
  const containers = Array.from({ length: options.containers }, (_, i) => {
    const deps = depsFor(i);
    return runContainer(queue, clock, (records) => deliverBatch(records, deps), delivered);
  });
  await clock.run(delivered, options.maxVirtualMs);
  void containers;
  return { sends, answers, queue, ledger, deadLetters, clock };
};

describe('the ceiling across concurrent deliveries (simulated Lambda, SQS and DynamoDB)', () => {
  test.each([
    { plan: 'Free', ceiling: 15, alerts: 200 },
    { plan: 'Pro, default share', ceiling: 150, alerts: 1_000 },
    { plan: 'Enterprise', ceiling: 1_000, alerts: 3_000 },
  ])(
    '$plan: a backlog of $alerts alerts at $ceiling a minute over 2 containers stays under the ceiling, each alert once, none redriven',
    async ({ ceiling, alerts }) => {
      const run = await simulate({ alerts, ceiling, containers: 2, maxVirtualMs: 48 * 3_600_000 });
      expect(
        maxInWindow(
          run.sends.map((s) => s.at),
          MINUTE,
        ),
      ).toBeLessThanOrEqual(ceiling);
      expect(new Set(run.sends.map((s) => s.eventId)).size).toBe(alerts);
      expect(run.sends).toHaveLength(alerts);
      expect(run.queue.redriven).toHaveLength(0);
      expect(run.deadLetters.bodies).toHaveLength(0);
      // The budget is used: the backlog drains within a fifth of the ideal time plus two minutes.
      const idealMs = (alerts / shareOfCeiling(ceiling, 2) / 2) * MINUTE;
      expect(run.clock.now).toBeLessThanOrEqual(idealMs * 1.2 + 2 * MINUTE);
    },
  );

  test('429 with Retry-After: the container that got it sends nothing more until the pause ends, and nothing is lost', async () => {
    // Squadcast throttles everything for the first 10 s, asking for 30 s.
    const answer = (at: number): SendOutcome =>
      at < 10_000
        ? { kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: 30_000 }
        : { kind: 'delivered', status: 202 };
    const run = await simulate({ alerts: 100, ceiling: 1_000, containers: 2, answer, maxVirtualMs: 3_600_000 });
    for (const container of [0, 1]) {
      const first429 = run.answers.find((a) => a.container === container && a.outcome.kind === 'transient');
      expect(first429).toBeDefined();
      const during = run.sends.filter(
        (s) => s.container === container && s.at > (first429?.at ?? 0) && s.at < (first429?.at ?? 0) + 30_000,
      );
      expect(during).toHaveLength(0);
    }
    expect(run.ledger.items.size).toBe(100);
    expect([...run.ledger.items.values()].every((item) => item.state === 'delivered')).toBe(true);
    expect(run.queue.redriven).toHaveLength(0);
  });

  test('an outage is ridden out with backoff by age and receives (Retry-After honoured when longer), not at the fixed visibility timeout', async () => {
    // Squadcast answers 503 for the first 70 minutes; every other answer of the outage carries Retry-After: 60.
    let calls = 0;
    const answer = (at: number): SendOutcome =>
      at < 70 * MINUTE
        ? {
            kind: 'transient',
            reason: 'Squadcast answered 503',
            failure: 'server-error',
            ...(++calls % 2 === 0 ? { retryAfterMs: 60_000 } : {}),
          }
        : { kind: 'delivered', status: 202 };
    const run = await simulate({ alerts: 5, ceiling: 150, containers: 2, answer, maxVirtualMs: 24 * 3_600_000 });
    const attempts = run.sends.filter((s) => s.eventId === 'a-0').map((s) => s.at);
    // Steps of the smaller of half the alert's age and 2 s doubled per receive (at least one receive per attempt), from 2 s to
    // 300 s; equal jitter at random = 0.5 gives 3/4 of each. A Retry-After pauses the container for 60 s, and a record put
    // back during a pause may find the next one when it returns: a gap may be up to two pauses longer.
    const clamp = (seconds: number): number => Math.min(300, Math.max(2, seconds));
    const shortest = (ageMs: number, attempt: number): number => 750 * clamp(Math.min(ageMs / 2_000, 2 * 2 ** (attempt - 1)));
    const longest = (ageMs: number): number => 750 * clamp(ageMs / 2_000);
    const gaps = attempts.slice(1).map((at, i) => ({ attempt: i + 1, at: attempts[i] as number, gap: at - (attempts[i] as number) }));
    expect(gaps.length).toBeGreaterThanOrEqual(20);
    for (const { attempt, at, gap } of gaps) {
      expect(gap).toBeGreaterThanOrEqual(shortest(at, attempt) - 1);
      expect(gap).toBeLessThanOrEqual(Math.max(longest(at + 150), 60_000) + 2 * 60_000 + 2_000);
    }
    expect(run.queue.redriven).toHaveLength(0);
    expect(run.deadLetters.bodies).toHaveLength(0);
    expect([...run.ledger.items.values()].every((item) => item.state === 'delivered')).toBe(true);
    expect(new Set(run.sends.filter((s) => s.at >= 70 * MINUTE).map((s) => s.eventId)).size).toBe(5);
  });
});

describe('configuration (SQUADCAST_MAX_PER_MINUTE, DELIVERY_MAX_INVOCATIONS)', () => {
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
    ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/a',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/d',
    LEDGER_TABLE_NAME: 't',
    SQUADCAST_WEBHOOK_URL: 'https://api.squadcast.com/v2/incidents/api/KEY-5c2e',
    ...extra,
  });

  test('defaults: 150 a minute shared by 2 invocations, 75 each', () => {
    const config = readDeliverConfig(env({}));
    expect([config.maxPerMinute, config.maxInvocations]).toEqual([150, 2]);
    expect(shareOfCeiling(config.maxPerMinute, config.maxInvocations)).toBe(75);
  });

  test.each<[Record<string, string>, string]>([
    [{ SQUADCAST_MAX_PER_MINUTE: '0' }, 'SQUADCAST_MAX_PER_MINUTE'],
    [{ SQUADCAST_MAX_PER_MINUTE: '15/min' }, 'SQUADCAST_MAX_PER_MINUTE'],
    [{ DELIVERY_MAX_INVOCATIONS: '0' }, 'DELIVERY_MAX_INVOCATIONS'],
    [
      { SQUADCAST_MAX_PER_MINUTE: '3', DELIVERY_MAX_INVOCATIONS: '5' },
      'SQUADCAST_MAX_PER_MINUTE: must be at least DELIVERY_MAX_INVOCATIONS',
    ],
    [{ DELIVERY_LEASE_MS: '8000', SQUADCAST_TIMEOUT_MS: '8000' }, 'DELIVERY_LEASE_MS: must be at least SQUADCAST_TIMEOUT_MS + 1500'],
    [{ DELIVERY_LEASE_MS: '9499', SQUADCAST_TIMEOUT_MS: '8000' }, 'DELIVERY_LEASE_MS: must be at least SQUADCAST_TIMEOUT_MS + 1500'],
  ])('%p is refused at cold start, naming the key and never the value', (extra, message) => {
    expect(() => readDeliverConfig(env(extra))).toThrow(message);
    try {
      readDeliverConfig(env(extra));
    } catch (error) {
      expect((error as Error).message).not.toContain('KEY-5c2e');
      expect((error as Error).message).not.toContain('15/min');
    }
  });

  test('a lease of SQUADCAST_TIMEOUT_MS + 1500 is the shortest taken (room for the claim and the turn, the POST, the record)', () => {
    expect(readDeliverConfig(env({ DELIVERY_LEASE_MS: '9500', SQUADCAST_TIMEOUT_MS: '8000' })).leaseMs).toBe(9_500);
  });
});
