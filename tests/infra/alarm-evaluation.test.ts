import { seededRandom } from '../../bench/stats';
import { readMetricsConfig } from '../../lib/config/env';
import { secretReader } from '../../lib/config/secret-reader';
import type { SendOutcome } from '../../lib/delivery/send-outcome';
import { createTelemetry } from '../../lib/telemetry/telemetry';
import type { AlarmDefinition, AlarmState, Datapoint } from '../helpers/cloudwatch-alarms';
import { evaluateAlarm, parseEmf, resolveIntrinsics } from '../helpers/cloudwatch-alarms';
import type { SimulatedAnswer } from '../helpers/delivery-simulation';
import { simulateRelay, VirtualClock } from '../helpers/delivery-simulation';
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

const failing = (outcome: SendOutcome): SimulatedAnswer => ({ latencyMs: 150, outcome });
const ANSWER_503 = failing({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
const ACCEPTED: SimulatedAnswer = { latencyMs: 80, outcome: { kind: 'delivered', status: 202 } };

/** The deliver side with the shipped settings, the real handler around it, Squadcast as `squadcast` says. */
const simulate = async (arrivals: readonly number[], squadcast: (at: number) => SimulatedAnswer, maxVirtualMs: number) => {
  const clock = new VirtualClock();
  const env = deliverEnv();
  const captured = await capturingEmf(
    () => clock.now,
    () =>
      simulateRelay({
        arrivals,
        squadcast: (at) => squadcast(at),
        ceilingPerMinute: Number(env.SQUADCAST_MAX_PER_MINUTE),
        env,
        random: seededRandom(16),
        telemetry: () => {
          const telemetry = createTelemetry('deliver', { ...readMetricsConfig(env), write: () => undefined });
          return telemetry;
        },
        until: (run) => run.clock.now >= maxVirtualMs - MINUTE,
        maxVirtualMs,
        clock,
      }),
  );
  return { run: captured.result, points: captured.points };
};

/** When the alarm first went to ALARM (ms from the start), or undefined. */
const firstAlarm = (states: readonly AlarmState[]): number | undefined => states.find((s) => s.state === 'ALARM')?.atMs;
const minutes = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / MINUTE).toFixed(1)} min`);

describe('SquadcastOutageAlarm, evaluated against what deliver prints', () => {
  it.each<[string, number[]]>([
    ['one alert, queued as the outage starts', [0]],
    ['an alert every 30 s', Array.from({ length: 50 }, (_, i) => i * 30 * SECOND)],
  ])('Squadcast answering 503 for 20 minutes (%s): in ALARM within 15 minutes, OK again after recovery', async (name, arrivals) => {
    const outageMs = 20 * MINUTE;
    const { run, points } = await simulate(arrivals, (at) => (at < outageMs ? ANSWER_503 : ACCEPTED), 45 * MINUTE);
    const states = evaluateAlarm(alarmNamed('SquadcastOutageAlarm'), points, 0, 45 * MINUTE);
    const raised = firstAlarm(states);
    const cleared = states.find((s) => s.state === 'OK' && s.atMs > (raised ?? Number.POSITIVE_INFINITY))?.atMs;
    console.log(
      `SquadcastOutageAlarm, 20-minute 503 outage, ${name}: ALARM after ${minutes(raised)}, OK again ${minutes(cleared)} after the start; ` +
        `${run.sends.length} sends, ${run.deliveredAt.size}/${arrivals.length} delivered after recovery, ${run.deadLetters.bodies.length} dead-lettered`,
    );
    expect(raised).toBeDefined();
    expect(raised).toBeLessThanOrEqual(15 * MINUTE);
    expect(cleared).toBeDefined();
    expect(run.deliveredAt.size).toBe(arrivals.length);
  });

  it('a single failed minute (every send fails for 60 s, traffic every 10 s) leaves it OK', async () => {
    const arrivals = Array.from({ length: 90 }, (_, i) => i * 10 * SECOND);
    const blip = (at: number): boolean => at >= 5 * MINUTE && at < 6 * MINUTE;
    const { run, points } = await simulate(arrivals, (at) => (blip(at) ? ANSWER_503 : ACCEPTED), 30 * MINUTE);
    const failedSends = run.sends.filter((send) => send.outcome === 'transient').length;
    const states = evaluateAlarm(alarmNamed('SquadcastOutageAlarm'), points, 0, 30 * MINUTE);
    console.log(
      `SquadcastOutageAlarm, one failed minute: ${failedSends} failed sends, ALARM ${minutes(firstAlarm(states))}; ` +
        `largest age printed ${Math.max(...points.filter((p) => p.name === 'OldestFailingAlertAge').map((p) => p.value))} s`,
    );
    expect(failedSends).toBeGreaterThan(0);
    expect(states.every((s) => s.state === 'OK')).toBe(true);
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
