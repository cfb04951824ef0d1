import { SQSClient } from '@aws-sdk/client-sqs';
import { median, percentile } from '../../bench/stats';
import { seededRandom } from '../../devkit/seeded-random';
import { readMetricsConfig } from '../../lib/config/env';
import { secretReader } from '../../lib/config/secret-reader';
import { watchDeadLetters } from '../../lib/dead-letter-watch/watch-dead-letters';
import { MAX_RETRY_STEP_SECONDS } from '../../lib/delivery/retry-budget';
import type { SendOutcome } from '../../lib/delivery/send-outcome';
import { createSqsDeadLetterScanner } from '../../lib/queue/sqs-queue';
import { createTelemetry } from '../../lib/telemetry/telemetry';
import { fakeAwsClient } from '../helpers/aws';
import type { AlarmDefinition, AlarmState, Datapoint } from '../helpers/cloudwatch-alarms';
import { evaluateAlarm, PROCESSING_DELAY_MS, parseEmf, resolveIntrinsics } from '../helpers/cloudwatch-alarms';
import type { LedgerFault, RelaySimulation, SimulatedAnswer } from '../helpers/delivery-simulation';
import { dynamoDbError, simulateRelay, VirtualClock } from '../helpers/delivery-simulation';
import type { PackagedTemplate } from '../helpers/package-service';
import { packagedOnce } from '../helpers/package-service';

/**
 * The alarms of the packaged template, evaluated as CloudWatch evaluates them, against the metric
 * lines the deliver handler really prints while a simulated Squadcast misbehaves on a simulated
 * clock. Every threshold, period and datapoint count comes from the template, none from this file.
 */
const MINUTE = 60_000;
const SECOND = 1_000;
/** The queue names a deployed stack would give, standing in for the template's Fn::GetAtt. */
const QUEUE_NAMES: Readonly<Record<string, string>> = { AlertsQueue: 'relay-ci-alerts', DeadLetterQueue: 'relay-ci-dead-letter' };

let template: PackagedTemplate;

beforeAll(() => {
  ({ template } = packagedOnce());
}, 300_000);

/** An alarm of the packaged template, its intrinsics resolved as a deployed stack would resolve them. */
const alarmNamed = (logicalId: string): AlarmDefinition => {
  const resource = template.Resources[logicalId];
  if (resource?.Type !== 'AWS::CloudWatch::Alarm') throw new Error(`${logicalId} is not an alarm of the template`);
  // The actions do not take part in the evaluation (template.test.ts checks where they go).
  const { AlarmActions: _actions, OKActions: _ok, ...definition } = resource.Properties ?? {};
  return resolveIntrinsics(definition, (intrinsic) => {
    const [target, attribute] = (intrinsic['Fn::GetAtt'] as [string, string] | undefined) ?? [];
    if (attribute === 'QueueName' && target !== undefined && QUEUE_NAMES[target]) return QUEUE_NAMES[target];
    throw new Error(`${logicalId}: cannot resolve ${JSON.stringify(intrinsic)}`);
  }) as AlarmDefinition;
};

/** deliver's environment in the packaged template: the plain settings (queue and table names are Refs, left out). */
const deliverEnv = (): Record<string, string> => {
  const environment = template.Resources.DeliverLambdaFunction?.Properties?.Environment as
    | { Variables: Record<string, unknown> }
    | undefined;
  const variables = environment?.Variables ?? {};
  return Object.fromEntries(Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
};

/** Everything printed to stdout while `run` runs, each line with the simulated time it was printed at. */
const capturingEmf = async <T>(now: () => number, run: () => Promise<T>): Promise<{ result: T; points: Datapoint[] }> => {
  const points: Datapoint[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('{"_aws"')) points.push(...parseEmf(line, now()));
    return true;
  });
  try {
    return { result: await run(), points };
  } finally {
    spy.mockRestore();
  }
};

/**
 * Arrivals start at 1 s or later: SQS never stamps a SentTimestamp of 0, and lib/delivery/sqs-event.ts
 * reads one as missing (the held-back age would then read 0).
 */
const failing = (outcome: SendOutcome): SimulatedAnswer => ({ latencyMs: 150, outcome });
const ANSWER_503 = failing({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
const ACCEPTED: SimulatedAnswer = { latencyMs: 80, outcome: { kind: 'delivered', status: 202 } };

interface Scenario {
  readonly arrivals: readonly number[];
  readonly squadcast: (at: number) => SimulatedAnswer;
  readonly maxVirtualMs: number;
  readonly seed?: number;
  readonly ledgerFault?: LedgerFault;
  readonly deliverStartsAt?: number;
}

/**
 * What SQS publishes each minute for the alerts queue: ApproximateAgeOfOldestMessage, which leaves
 * out a message received three times or more.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 */
const sqsOldestAge = (run: RelaySimulation): Datapoint => {
  const ages = [...run.queue.messages.values()].filter((m) => m.receiveCount < 3).map((m) => (run.clock.now - m.sentAt) / SECOND);
  return {
    namespace: 'AWS/SQS',
    name: 'ApproximateAgeOfOldestMessage',
    dimensions: { QueueName: QUEUE_NAMES.AlertsQueue ?? '' },
    atMs: run.clock.now,
    value: Math.max(0, ...ages),
  };
};

/** The deliver side with the shipped settings, the real handler around it, Squadcast and the ledger as the scenario says. */
const simulateScenario = async (scenario: Scenario) => {
  const clock = new VirtualClock();
  const env = deliverEnv();
  const sqs: Datapoint[] = [];
  const captured = await capturingEmf(
    () => clock.now,
    () =>
      simulateRelay({
        arrivals: scenario.arrivals,
        squadcast: (at) => scenario.squadcast(at),
        ceilingPerMinute: Number(env.SQUADCAST_MAX_PER_MINUTE),
        env,
        random: seededRandom(scenario.seed ?? 16),
        telemetry: () => createTelemetry('deliver', { ...readMetricsConfig(env), write: () => undefined }),
        until: (run) => {
          if (run.clock.now >= sqs.length * MINUTE) sqs.push(sqsOldestAge(run));
          return run.clock.now >= scenario.maxVirtualMs - MINUTE;
        },
        maxVirtualMs: scenario.maxVirtualMs,
        clock,
        ...(scenario.ledgerFault ? { ledgerFault: scenario.ledgerFault } : {}),
        ...(scenario.deliverStartsAt === undefined ? {} : { deliverStartsAt: scenario.deliverStartsAt }),
      }),
  );
  return { run: captured.result, points: [...captured.points, ...sqs] };
};

/** When the first alert that waited `seconds` or more to be delivered was queued (ms from the start), or undefined. */
const firstQueuedOfThoseLate = (run: RelaySimulation, seconds: number): number | undefined => {
  const late = [...run.queuedAt].filter(([id, at]) => (run.deliveredAt.get(id) ?? Number.POSITIVE_INFINITY) - at >= seconds * SECOND);
  return late.length === 0 ? undefined : Math.min(...late.map(([, at]) => at));
};

const simulate = (arrivals: readonly number[], squadcast: (at: number) => SimulatedAnswer, maxVirtualMs: number) =>
  simulateScenario({ arrivals, squadcast, maxVirtualMs });

/** When the alarm first went to ALARM (ms from the start), or undefined. */
const firstAlarm = (states: readonly AlarmState[]): number | undefined => states.find((s) => s.state === 'ALARM')?.atMs;
const minutes = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / MINUTE).toFixed(1)} min`);

/** The datapoints of one of the relay's metrics. */
const pointsOf = (points: readonly Datapoint[], name: string): Datapoint[] => points.filter((p) => p.name === name);

/** The longest stretch within [fromMs, toMs) without a datapoint of the metric, in ms. */
const largestGap = (points: readonly Datapoint[], name: string, fromMs: number, toMs: number): number => {
  const times = pointsOf(points, name)
    .map((p) => p.atMs)
    .filter((at) => at >= fromMs && at < toMs)
    .sort((a, b) => a - b);
  return Math.max(...[fromMs, ...times, toMs].slice(1).map((at, i) => at - ([fromMs, ...times][i] ?? fromMs)));
};

/** When the alarm was first OK again after `afterMs` (ms from the start), or undefined. */
const clearedAfter = (states: readonly AlarmState[], afterMs: number): number | undefined =>
  states.find((s) => s.state === 'OK' && s.atMs > afterMs)?.atMs;

/** True when the alarm, once in ALARM, went OK before `untilMs`: it flapped while the cause went on. */
const flapped = (states: readonly AlarmState[], untilMs: number): boolean => {
  const raised = firstAlarm(states);
  return raised !== undefined && states.some((s) => s.state === 'OK' && s.atMs > raised && s.atMs <= untilMs);
};

const distribution = (values: readonly number[]): string =>
  `min ${minutes(Math.min(...values))}, median ${minutes(median(values))}, p90 ${minutes(percentile(values, 90))}, max ${minutes(Math.max(...values))}`;

describe('a 20-minute Squadcast outage, alerts at random phases (SquadcastOutageAlarm, AlertsHeldBackAlarm)', () => {
  const SEEDS = 24;
  /** One seed's traffic: a lone alert, or one every 30 s, 60 s or 5 min, at a random phase; the outage starts 5 to 10 minutes in. */
  const trafficFor = (seed: number) => {
    const random = seededRandom(1_000 + seed);
    const interval = [undefined, 30 * SECOND, 60 * SECOND, 5 * MINUTE][seed % 4];
    const outageStart = Math.round(5 * MINUTE + random() * 5 * MINUTE);
    const arrivals =
      interval === undefined
        ? [Math.round(outageStart + random() * 5 * MINUTE)]
        : Array.from({ length: Math.floor((45 * MINUTE) / interval) }, (_, i) => SECOND + Math.round(random() * interval + i * interval));
    // The outage meets its first alert when the first one after its start is queued.
    const met = arrivals.filter((at) => at >= outageStart).sort((a, b) => a - b)[0] ?? outageStart;
    return { interval, outageStart, outageEnd: outageStart + 20 * MINUTE, arrivals, met };
  };

  it(`raises both within 15 minutes of the first alert it meets, over ${SEEDS} seeds, and clears after recovery`, async () => {
    const rows: Array<{ outage: number; heldBack: number; outageOk: number; heldBackOk: number; gap: number }> = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      const traffic = trafficFor(seed);
      const { run, points } = await simulateScenario({
        arrivals: traffic.arrivals,
        squadcast: (at) => (at >= traffic.outageStart && at < traffic.outageEnd ? ANSWER_503 : ACCEPTED),
        maxVirtualMs: traffic.outageEnd + 25 * MINUTE,
        seed,
      });
      const outage = evaluateAlarm(alarmNamed('SquadcastOutageAlarm'), points, 0, traffic.outageEnd + 24 * MINUTE);
      const heldBack = evaluateAlarm(alarmNamed('AlertsHeldBackAlarm'), points, 0, traffic.outageEnd + 24 * MINUTE);
      const label = `seed ${seed} (every ${traffic.interval ?? 'once'}, outage at ${minutes(traffic.outageStart)})`;
      expect([label, run.deliveredAt.size]).toEqual([label, traffic.arrivals.length]);
      for (const states of [outage, heldBack]) {
        expect([label, (firstAlarm(states) ?? Number.POSITIVE_INFINITY) - traffic.met]).toEqual([label, expect.any(Number)]);
        expect((firstAlarm(states) ?? Number.POSITIVE_INFINITY) - traffic.met).toBeLessThanOrEqual(15 * MINUTE);
        expect(flapped(states, traffic.outageEnd)).toBe(false);
        expect(clearedAfter(states, traffic.outageEnd)).toBeDefined();
      }
      rows.push({
        outage: (firstAlarm(outage) ?? 0) - traffic.met,
        heldBack: (firstAlarm(heldBack) ?? 0) - traffic.met,
        outageOk: (clearedAfter(outage, traffic.outageEnd) ?? 0) - traffic.outageEnd,
        heldBackOk: (clearedAfter(heldBack, traffic.outageEnd) ?? 0) - traffic.outageEnd,
        gap: largestGap(points, 'SquadcastFailingFor', traffic.met + 2 * SECOND, traffic.outageEnd),
      });
    }
    console.log(
      `20-minute 503 outage over ${SEEDS} seeds (CloudWatch's processing, ${PROCESSING_DELAY_MS / MINUTE} min, included), from the first alert it met:\n` +
        `  SquadcastOutageAlarm ALARM after ${distribution(rows.map((r) => r.outage))}; OK after recovery ${distribution(rows.map((r) => r.outageOk))}\n` +
        `  AlertsHeldBackAlarm  ALARM after ${distribution(rows.map((r) => r.heldBack))}; OK after recovery ${distribution(rows.map((r) => r.heldBackOk))}\n` +
        `  largest gap between SquadcastFailingFor datapoints during the outage: ${minutes(Math.max(...rows.map((r) => r.gap)))}`,
    );
  });

  it('a single failed minute (every send fails for 60 s, traffic every 10 s) leaves SquadcastOutageAlarm and AlertsHeldBackAlarm OK', async () => {
    const arrivals = Array.from({ length: 90 }, (_, i) => i * 10 * SECOND);
    const blip = (at: number): boolean => at >= 5 * MINUTE && at < 6 * MINUTE;
    const { run, points } = await simulate(arrivals, (at) => (blip(at) ? ANSWER_503 : ACCEPTED), 30 * MINUTE);
    const failedSends = run.sends.filter((send) => send.outcome === 'transient').length;
    const outage = evaluateAlarm(alarmNamed('SquadcastOutageAlarm'), points, 0, 30 * MINUTE);
    const heldBack = evaluateAlarm(alarmNamed('AlertsHeldBackAlarm'), points, 0, 30 * MINUTE);
    const largest = (name: string) => Math.round(Math.max(...pointsOf(points, name).map((p) => p.value)));
    console.log(
      `one failed minute: ${failedSends} failed sends; SquadcastOutageAlarm ${minutes(firstAlarm(outage))} (largest failing-for ${largest('SquadcastFailingFor')} s), ` +
        `AlertsHeldBackAlarm ${minutes(firstAlarm(heldBack))} (largest held-back age ${largest('OldestHeldBackAlertAge')} s)`,
    );
    expect(failedSends).toBeGreaterThan(0);
    expect(outage.every((s) => s.state === 'OK')).toBe(true);
    expect(heldBack.every((s) => s.state === 'OK')).toBe(true);
  });
});

describe('the largest retry step the configuration accepts: a 2-hour outage does not flap', () => {
  it.each<[string, number[]]>([
    ['one alert', [SECOND]],
    ['an alert every 5 minutes', Array.from({ length: 24 }, (_, i) => SECOND + i * 5 * MINUTE)],
  ])(
    '%s: both alarms stay in ALARM until Squadcast is back; the largest gap between datapoints fits the window',
    async (name, arrivals) => {
      const env = deliverEnv();
      expect(Number(env.DELIVERY_RETRY_MAX_SECONDS ?? 300)).toBe(MAX_RETRY_STEP_SECONDS);
      // Squadcast fails from the start: the first alert meets the outage at 1 s.
      const [start, end] = [0, 2 * 60 * MINUTE];
      const { run, points } = await simulate(arrivals, (at) => (at >= start && at < end ? ANSWER_503 : ACCEPTED), end + 20 * MINUTE);
      const lines: string[] = [];
      for (const [alarm, metric] of [
        ['SquadcastOutageAlarm', 'SquadcastFailingFor'],
        ['AlertsHeldBackAlarm', 'OldestHeldBackAlertAge'],
      ] as const) {
        const states = evaluateAlarm(alarmNamed(alarm), points, 0, end + 19 * MINUTE);
        const gap = largestGap(points, metric, SECOND + 2 * SECOND, end);
        lines.push(
          `${alarm} ALARM after ${minutes((firstAlarm(states) ?? Number.NaN) - SECOND)}, flapped: ${flapped(states, end)}, largest ${metric} gap ${(gap / SECOND).toFixed(0)} s`,
        );
        expect(firstAlarm(states)).toBeDefined();
        expect(flapped(states, end)).toBe(false);
        expect(gap).toBeLessThan(Number(alarmNamed(alarm).EvaluationPeriods) * 60 * SECOND - 60 * SECOND);
      }
      console.log(`2-hour outage, ${name}, DELIVERY_RETRY_MAX_SECONDS ${MAX_RETRY_STEP_SECONDS}: ${lines.join('; ')}`);
      expect(run.deliveredAt.size).toBe(arrivals.length);
    },
  );
});

describe('a DynamoDB outage: the ledger table missing, then throttling (AlertsHeldBackAlarm)', () => {
  const [start, end] = [5 * MINUTE, 25 * MINUTE];
  const arrivals = Array.from({ length: 90 }, (_, i) => SECOND + i * 30 * SECOND);
  it.each<[string, (random: () => number) => LedgerFault]>([
    [
      'the table deleted (ResourceNotFoundException on every call)',
      () => (at) => (at >= start && at < end ? dynamoDbError('ResourceNotFoundException') : undefined),
    ],
    [
      "throttling (9 calls in 10 refused after the SDK's own retries)",
      (random) => (at) => (at >= start && at < end && random() < 0.9 ? dynamoDbError('ProvisionedThroughputExceededException') : undefined),
    ],
  ])(
    '%s for 20 minutes: AlertsHeldBackAlarm within 15 minutes, no Squadcast outage page, every alert delivered once',
    async (name, fault) => {
      const { run, points } = await simulateScenario({
        arrivals,
        squadcast: () => ACCEPTED,
        maxVirtualMs: 50 * MINUTE,
        ledgerFault: fault(seededRandom(7)),
      });
      const heldBack = evaluateAlarm(alarmNamed('AlertsHeldBackAlarm'), points, 0, 49 * MINUTE);
      const outage = evaluateAlarm(alarmNamed('SquadcastOutageAlarm'), points, 0, 49 * MINUTE);
      const raised = firstAlarm(heldBack) ?? Number.POSITIVE_INFINITY;
      // It tells of an alert held back 7 minutes: from the first such alert's arrival (the stall's start when everything stops).
      const firstLate = firstQueuedOfThoseLate(run, Number(alarmNamed('AlertsHeldBackAlarm').Threshold)) ?? start;
      const sendsPerAlert = Math.max(
        ...[...new Set(run.sends.map((s) => s.eventId))].map((id) => run.sends.filter((s) => s.eventId === id).length),
      );
      console.log(
        `DynamoDB, ${name}, from ${minutes(start)} to ${minutes(end)}: AlertsHeldBackAlarm ALARM ${minutes(raised - start)} after it began ` +
          `(${minutes(raised - firstLate)} after the first alert it held back 7 minutes was queued), OK ${minutes((clearedAfter(heldBack, end) ?? Number.NaN) - end)} after it ended; ` +
          `SquadcastOutageAlarm ${minutes(firstAlarm(outage))}; ${run.deliveredAt.size}/${arrivals.length} delivered, at most ${sendsPerAlert} sends of one alert`,
      );
      expect(raised - firstLate).toBeLessThanOrEqual(15 * MINUTE);
      expect(flapped(heldBack, end)).toBe(false);
      expect(clearedAfter(heldBack, end)).toBeDefined();
      expect(firstAlarm(outage)).toBeUndefined();
      expect(run.deliveredAt.size).toBe(arrivals.length);
      expect(sendsPerAlert).toBe(1);
    },
  );
});

describe('a backlog, then one 5xx: no Squadcast outage page', () => {
  /** Squadcast answers 503 to the first send at or after `at`, and accepts every other. */
  const oneFailureFrom = (at: number) => {
    let failed = false;
    return (now: number): SimulatedAnswer => {
      if (failed || now < at) return ACCEPTED;
      failed = true;
      return ANSWER_503;
    };
  };

  it('deliver stopped for 10 minutes, then its first send fails: SquadcastOutageAlarm stays OK; AlertsHeldBackAlarm says an alert was held back 10 minutes', async () => {
    const arrivals = Array.from({ length: 30 }, (_, i) => SECOND + i * 20 * SECOND);
    const { run, points } = await simulateScenario({
      arrivals,
      squadcast: oneFailureFrom(0),
      maxVirtualMs: 40 * MINUTE,
      deliverStartsAt: 10 * MINUTE,
    });
    const outage = evaluateAlarm(alarmNamed('SquadcastOutageAlarm'), points, 0, 39 * MINUTE);
    const heldBack = evaluateAlarm(alarmNamed('AlertsHeldBackAlarm'), points, 0, 39 * MINUTE);
    console.log(
      `deliver stopped 10 min, then one 503: SquadcastOutageAlarm ${minutes(firstAlarm(outage))}; AlertsHeldBackAlarm ALARM ${minutes(firstAlarm(heldBack))}, ` +
        `OK again ${minutes(clearedAfter(heldBack, firstAlarm(heldBack) ?? 0))} (the alert that failed had waited ` +
        `${Math.round(Math.max(...pointsOf(points, 'OldestHeldBackAlertAge').map((p) => p.value)))} s)`,
    );
    expect(run.sends.filter((send) => send.outcome === 'transient')).toHaveLength(1);
    expect(outage.every((s) => s.state === 'OK')).toBe(true);
    // An alert 10 minutes late was held back 10 minutes: that one is told, once, and clears.
    expect(firstAlarm(heldBack)).toBeDefined();
    expect(clearedAfter(heldBack, firstAlarm(heldBack) ?? 0)).toBeDefined();
    expect(run.deliveredAt.size).toBe(arrivals.length);
  });

  it('a storm of 900 alerts paced by the ceiling (6 minutes), one 503 at its end: both alarms stay OK', async () => {
    const arrivals = Array.from({ length: 900 }, () => SECOND);
    const { run, points } = await simulateScenario({ arrivals, squadcast: oneFailureFrom(5.5 * MINUTE), maxVirtualMs: 25 * MINUTE });
    const outage = evaluateAlarm(alarmNamed('SquadcastOutageAlarm'), points, 0, 24 * MINUTE);
    const heldBack = evaluateAlarm(alarmNamed('AlertsHeldBackAlarm'), points, 0, 24 * MINUTE);
    const last = Math.max(...run.deliveredAt.values());
    console.log(
      `storm of 900 at once: last delivered after ${minutes(last)}; one 503; SquadcastOutageAlarm ${minutes(firstAlarm(outage))}, ` +
        `AlertsHeldBackAlarm ${minutes(firstAlarm(heldBack))} (largest held-back age ${Math.round(Math.max(...pointsOf(points, 'OldestHeldBackAlertAge').map((p) => p.value)))} s)`,
    );
    expect(run.sends.filter((send) => send.outcome === 'transient')).toHaveLength(1);
    expect(outage.every((s) => s.state === 'OK')).toBe(true);
    expect(heldBack.every((s) => s.state === 'OK')).toBe(true);
  });
});

describe("the ceiling's pacing of a storm is not a stall: AlertsHeldBackAlarm stays OK, OldestMessageAlarm tells of a backlog 15 minutes deep", () => {
  // deliver waits for its turn inside an invocation, and leaves the rest of a storm in the queue,
  // unreceived: only SQS's age of the oldest message sees those (OldestMessageAlarm).
  it.each<[string, boolean, number[]]>([
    ['1000 alerts at once', false, Array.from({ length: 1000 }, () => SECOND)],
    [
      "Threat Stack's documented most, 200 a minute, for 20 minutes",
      false,
      Array.from({ length: 4000 }, (_, i) => SECOND + Math.floor((i * MINUTE) / 200)),
    ],
    ['3000 alerts at once', true, Array.from({ length: 3000 }, () => SECOND)],
  ])('%s, at the shipped ceiling (OldestMessageAlarm: %p)', async (name, backlogAlarm, arrivals) => {
    const { run, points } = await simulateScenario({ arrivals, squadcast: () => ACCEPTED, maxVirtualMs: 45 * MINUTE });
    const heldBack = evaluateAlarm(alarmNamed('AlertsHeldBackAlarm'), points, 0, 44 * MINUTE);
    const oldest = evaluateAlarm(alarmNamed('OldestMessageAlarm'), points, 0, 44 * MINUTE);
    const held = pointsOf(points, 'OldestHeldBackAlertAge').map((p) => p.value);
    console.log(
      `${name}: last delivered after ${minutes(Math.max(...run.deliveredAt.values()))}; held back by deliver: ${held.length} datapoints, ` +
        `largest ${Math.round(Math.max(0, ...held))} s; AlertsHeldBackAlarm ${minutes(firstAlarm(heldBack))}, OldestMessageAlarm ${minutes(firstAlarm(oldest))}`,
    );
    expect(run.deliveredAt.size).toBe(arrivals.length);
    expect(firstAlarm(heldBack)).toBeUndefined();
    expect(firstAlarm(oldest) !== undefined).toBe(backlogAlarm);
  });
});

describe('the dead-letter alarms, for a revoked Squadcast key (401: dead-lettered at once)', () => {
  it('DeadLetterArrivalsAlarm (from what deliver prints) and DeadLetterAlarm (from the queue depth SQS would publish) fire within 5 minutes', async () => {
    const refused = failing({ kind: 'permanent', reason: 'Squadcast answered 401', failure: 'refused' });
    const { run, points } = await simulate([MINUTE], () => refused, 15 * MINUTE);
    expect(run.deadLetteredAt).toHaveLength(1);
    const arrivals = evaluateAlarm(alarmNamed('DeadLetterArrivalsAlarm'), points, 0, 15 * MINUTE);
    // SQS publishes the queue's depth every minute: model it from when the dead letter was sent.
    const sqsDepth: Datapoint[] = Array.from({ length: 15 }, (_, m) => ({
      namespace: 'AWS/SQS',
      name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: QUEUE_NAMES.DeadLetterQueue ?? '' },
      atMs: m * MINUTE,
      value: run.deadLetteredAt.filter((at) => at < (m + 1) * MINUTE).length,
    }));
    const depth = evaluateAlarm(alarmNamed('DeadLetterAlarm'), sqsDepth, 0, 15 * MINUTE);
    const deadLettered = run.deadLetteredAt[0] ?? 0;
    console.log(
      `401: dead-lettered at ${minutes(deadLettered)}; DeadLetterArrivalsAlarm ALARM at ${minutes(firstAlarm(arrivals))}, ` +
        `back to OK at ${minutes(arrivals.find((s) => s.state === 'OK' && s.atMs > (firstAlarm(arrivals) ?? 0))?.atMs)}; DeadLetterAlarm ALARM at ${minutes(firstAlarm(depth))}`,
    );
    expect((firstAlarm(arrivals) ?? Number.POSITIVE_INFINITY) - deadLettered).toBeLessThanOrEqual(5 * MINUTE);
    expect((firstAlarm(depth) ?? Number.POSITIVE_INFINITY) - deadLettered).toBeLessThanOrEqual(5 * MINUTE);
    // The arrivals alarm returns to OK, so that the next dead letter fires it again; the depth alarm holds while the letter is there.
    expect(arrivals[arrivals.length - 1]?.state).toBe('OK');
    expect(depth[depth.length - 1]?.state).toBe('ALARM');
  });
});

describe('DeadLetterExpiryAlarm: dead letters looked at five times, measured by the hourly watch', () => {
  const HOUR = 60 * MINUTE;
  const DAY = 24 * HOUR;
  /** Virtual time 0 as an epoch: SentTimestamps are real epoch milliseconds. */
  const EPOCH = Date.UTC(2026, 11, 1);

  interface Letter {
    readonly sentAt: number;
    readonly arrivesAt: number;
    receives: number;
    hiddenUntil: number;
  }

  /**
   * The dead-letter queue on virtual time, behind the real SDK client: receives hide a letter and
   * count, a visibility of 0 shows it again, SQS deletes a letter 14 days after its SentTimestamp.
   */
  const deadLetterQueue = (letters: Letter[], now: () => number) =>
    fakeAwsClient(SQSClient, (name, input) => {
      const present = letters.filter((l) => l.arrivesAt <= now() && now() - l.sentAt < 14 * DAY);
      if (name === 'ReceiveMessageCommand') {
        const taken = present.filter((l) => l.hiddenUntil <= now()).slice(0, Number(input.MaxNumberOfMessages));
        for (const letter of taken) {
          letter.receives += 1;
          letter.hiddenUntil = now() + Number(input.VisibilityTimeout) * SECOND;
        }
        return {
          Messages: taken.map((l) => ({
            ReceiptHandle: String(letters.indexOf(l)),
            Attributes: { SentTimestamp: String(EPOCH + l.sentAt), ApproximateReceiveCount: String(l.receives) },
          })),
        };
      }
      if (name === 'ChangeMessageVisibilityBatchCommand') {
        const entries = input.Entries as Array<{ Id: string; ReceiptHandle: string; VisibilityTimeout: number }>;
        for (const entry of entries) {
          const letter = letters[Number(entry.ReceiptHandle)];
          if (letter) letter.hiddenUntil = now() + entry.VisibilityTimeout * SECOND;
        }
        return { Successful: entries.map((e) => ({ Id: e.Id })) };
      }
      throw new Error(`unexpected ${name}`);
    });

  it.each<[string, Letter]>([
    ['moved by deliver (its own SentTimestamp)', { sentAt: 2 * DAY, arrivesAt: 2 * DAY, receives: 0, hiddenUntil: 0 }],
    ['moved by SQS after maxReceiveCount (first queued 2 days before)', { sentAt: HOUR, arrivesAt: 2 * DAY, receives: 0, hiddenUntil: 0 }],
  ])('a letter %s: ALARM with 3 days or more left, however often it was looked at', async (name, letter) => {
    let now = 0;
    const letters = [letter];
    const sqs = deadLetterQueue(letters, () => now);
    const env = { POWERTOOLS_METRICS_NAMESPACE: 'ThreatstackSquadcastRelay', STAGE: 'ci', ...deliverEnv() };
    const telemetry = createTelemetry('deadLetterWatch', { ...readMetricsConfig(env), write: () => undefined });
    const deps = {
      scanner: createSqsDeadLetterScanner(sqs.client, 'https://sqs/dlq'),
      metrics: telemetry.metrics,
      log: telemetry.log,
      now: () => new Date(EPOCH + now),
    };
    // An operator looks at the dead letters five times (npm run dead-letters, the console's "Poll for messages").
    const looks = [3, 4, 5, 6, 7].map((day) => letter.arrivesAt + day * DAY - 2 * DAY);
    const { points } = await capturingEmf(
      () => now,
      async () => {
        for (now = 17 * MINUTE; now < 16 * DAY; now += HOUR) {
          if (looks.some((at) => at <= now && at > now - HOUR)) letter.receives += 1;
          await watchDeadLetters(deps);
          telemetry.metrics.flush();
        }
      },
    );
    const states = evaluateAlarm(alarmNamed('DeadLetterExpiryAlarm'), points, 0, 16 * DAY);
    const raised = firstAlarm(states) ?? Number.POSITIVE_INFINITY;
    const expiresAt = letter.sentAt + 14 * DAY;
    console.log(
      `dead letter ${name}: received ${letter.receives} times (five looks, the rest the watch's own hourly reads); DeadLetterExpiryAlarm ALARM ${((raised - letter.arrivesAt) / DAY).toFixed(2)} days after it arrived, ` +
        `${((expiresAt - raised) / DAY).toFixed(2)} days before SQS deletes it`,
    );
    expect(letter.receives).toBeGreaterThan(5);
    expect(expiresAt - raised).toBeGreaterThanOrEqual(3 * DAY);
    expect(flapped(states, expiresAt)).toBe(false);
  });
});

describe('SecretReadFailedAlarm, evaluated against what a function prints', () => {
  it('one failed read of the Squadcast URL is enough: ALARM within 5 minutes', async () => {
    const env = deliverEnv();
    const telemetry = createTelemetry('deliver', { ...readMetricsConfig(env), write: () => undefined });
    const failedAt = 2 * MINUTE + 17 * SECOND;
    const { points } = await capturingEmf(
      () => failedAt,
      async () => {
        const read = secretReader({
          key: 'SQUADCAST_WEBHOOK_URL',
          source: { kind: 'parameter', name: String(env.SQUADCAST_WEBHOOK_URL_PARAMETER) },
          store: () => ({ read: () => Promise.reject(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })) }),
          validate: () => undefined,
          log: telemetry.log,
          metrics: telemetry.metrics,
        });
        await read().catch(() => undefined);
        telemetry.metrics.flush();
      },
    );
    const states = evaluateAlarm(alarmNamed('SecretReadFailedAlarm'), points, 0, 15 * MINUTE);
    console.log(`SecretReadFailedAlarm: one failed read at ${minutes(failedAt)}, ALARM at ${minutes(firstAlarm(states))}`);
    expect((firstAlarm(states) ?? Number.POSITIVE_INFINITY) - failedAt).toBeLessThanOrEqual(5 * MINUTE);
  });
});
