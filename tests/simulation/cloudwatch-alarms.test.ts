import type { AlarmDefinition, Datapoint } from '../helpers/cloudwatch-alarms';
import { evaluateAlarm, evaluateExpression, PROCESSING_DELAY_MS, parseEmf, resolveIntrinsics } from '../helpers/cloudwatch-alarms';

/** The alarm evaluator the alarm tests rely on, checked against CloudWatch's documented rules. */
const MINUTE = 60_000;
const DIMENSIONS = { service: 's', stage: 'ci' };
const point = (minute: number, value: number, name = 'M', dimensions: Record<string, string> = DIMENSIONS): Datapoint => ({
  namespace: 'N',
  name,
  dimensions,
  atMs: minute * MINUTE + 1_000,
  value,
});
const alarm = (overrides: Partial<AlarmDefinition> = {}): AlarmDefinition => ({
  Namespace: 'N',
  MetricName: 'M',
  Dimensions: [
    { Name: 'service', Value: 's' },
    { Name: 'stage', Value: 'ci' },
  ],
  Statistic: 'Sum',
  Period: 60,
  EvaluationPeriods: 1,
  Threshold: 0,
  ComparisonOperator: 'GreaterThanThreshold',
  TreatMissingData: 'notBreaching',
  ...overrides,
});
const states = (definition: AlarmDefinition, points: Datapoint[], toMinute = 6) =>
  evaluateAlarm(definition, points, MINUTE, toMinute * MINUTE)
    .map((s) => s.state[0])
    .join('');

describe('parseEmf', () => {
  it('reads every metric of every directive under its dimension set, a value array as several datapoints', () => {
    const line = JSON.stringify({
      _aws: {
        Timestamp: 123,
        CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['service', 'stage']], Metrics: [{ Name: 'A' }, { Name: 'L' }] }],
      },
      service: 's',
      stage: 'ci',
      A: 2,
      L: [5, 7],
    });
    expect(parseEmf(line)).toEqual([
      { namespace: 'N', name: 'A', dimensions: DIMENSIONS, atMs: 123, value: 2 },
      { namespace: 'N', name: 'L', dimensions: DIMENSIONS, atMs: 123, value: 5 },
      { namespace: 'N', name: 'L', dimensions: DIMENSIONS, atMs: 123, value: 7 },
    ]);
    expect(parseEmf(line, 999)[0]?.atMs).toBe(999);
    expect(parseEmf('not json')).toEqual([]);
    expect(parseEmf('{"level":"INFO"}')).toEqual([]);
  });
});

describe('evaluateAlarm', () => {
  it('breaches on the period holding the datapoint; a period without data is not breaching', () => {
    expect(states(alarm(), [point(2, 1)])).toBe('OOAOOO');
  });

  it("a state is seen only after the processing delay: the period's end plus 2 minutes", () => {
    const seen = evaluateAlarm(alarm(), [point(2, 1)], MINUTE, 4 * MINUTE);
    expect(seen.map((s) => [s.atMs, s.state])).toEqual([
      [MINUTE + PROCESSING_DELAY_MS, 'OK'],
      [2 * MINUTE + PROCESSING_DELAY_MS, 'OK'],
      [3 * MINUTE + PROCESSING_DELAY_MS, 'ALARM'],
      [4 * MINUTE + PROCESSING_DELAY_MS, 'OK'],
    ]);
    expect(evaluateAlarm(alarm(), [point(2, 1)], MINUTE, 4 * MINUTE, 0).find((s) => s.state === 'ALARM')?.atMs).toBe(3 * MINUTE);
  });

  it('M out of N: one breaching period in the last N keeps the alarm up for N periods', () => {
    expect(states(alarm({ EvaluationPeriods: 3, DatapointsToAlarm: 1 }), [point(1, 1)])).toBe('OAAAOO');
    expect(states(alarm({ EvaluationPeriods: 3, DatapointsToAlarm: 2 }), [point(1, 1), point(3, 1)])).toBe('OOOAOO');
  });

  it('applies the statistic over the period and the comparison to the threshold', () => {
    const max = alarm({ Statistic: 'Maximum', Threshold: 600, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(states(max, [point(0, 100), point(0, 600), point(3, 599)])).toBe('AOOOOO');
    expect(states(alarm({ Threshold: 5 }), [point(1, 3), point(1, 3)])).toBe('OAOOOO');
  });

  it('matches the exact dimension set: the same name under other dimensions is another metric', () => {
    expect(states(alarm(), [point(1, 1, 'M', { service: 's' }), point(2, 1, 'M', { ...DIMENSIONS, extra: 'x' })])).toBe('OOOOOO');
  });

  it('metric math: a metric missing in a period counts as 0, and a period where all are missing has no value', () => {
    const math = alarm({
      MetricName: undefined,
      Metrics: [
        { Id: 'sum', Expression: 'a + b', ReturnData: true },
        { Id: 'a', ReturnData: false, MetricStat: { Metric: { Namespace: 'N', MetricName: 'A' }, Period: 60, Stat: 'Sum' } },
        { Id: 'b', ReturnData: false, MetricStat: { Metric: { Namespace: 'N', MetricName: 'B' }, Period: 60, Stat: 'Sum' } },
      ],
      Threshold: 1,
    });
    expect(states(math, [point(1, 1, 'A', {}), point(2, 1, 'A', {}), point(2, 1, 'B', {})])).toBe('OOAOOO');
  });

  it('refuses what it does not model, rather than guess', () => {
    expect(() => states(alarm({ TreatMissingData: 'breaching' }), [])).toThrow('not modelled');
    expect(() => states(alarm({ Statistic: 'p99' }), [point(0, 1)])).toThrow('statistic p99 is not modelled');
  });
});

describe('evaluateExpression', () => {
  it('follows precedence and parentheses', () => {
    expect(evaluateExpression('a - b - c', { a: 10, b: 3, c: 2 })).toBe(5);
    expect(evaluateExpression('a + b * 2', { a: 1, b: 3 })).toBe(7);
    expect(evaluateExpression('(a + b) * 2', { a: 1, b: 3 })).toBe(8);
    expect(evaluateExpression('a + b', { a: undefined, b: undefined })).toBeUndefined();
    expect(() => evaluateExpression('FILL(a, 0)', { a: 1 })).toThrow('not modelled');
  });
});

describe('resolveIntrinsics', () => {
  it('replaces every intrinsic, deep in the properties', () => {
    expect(resolveIntrinsics({ D: [{ V: { 'Fn::GetAtt': ['Q', 'QueueName'] } }], K: 'plain' }, () => 'resolved')).toEqual({
      D: [{ V: 'resolved' }],
      K: 'plain',
    });
  });
});
