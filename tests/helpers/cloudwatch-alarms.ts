/**
 * A CloudWatch alarm, evaluated the way CloudWatch evaluates it, against datapoints a test has: the
 * Embedded Metric Format lines the handlers print (parsed here), and any AWS metric the test models.
 * It reads the alarm's own definition from the packaged template (metric or metric math, statistic,
 * period, threshold, comparison, evaluation periods, datapoints to alarm, missing-data treatment),
 * so that no threshold is copied into a test.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

import type { Datapoint } from '../../scripts/rehearsal/emf';

export { parseEmf } from '../../scripts/rehearsal/emf';
export type { Datapoint };

/** The properties of an AWS::CloudWatch::Alarm, with every intrinsic already resolved to a string. */
export interface AlarmDefinition {
  readonly Namespace?: string;
  readonly MetricName?: string;
  readonly Dimensions?: ReadonlyArray<{ readonly Name: string; readonly Value: string }>;
  readonly Statistic?: string;
  readonly Period?: number;
  readonly Metrics?: ReadonlyArray<{
    readonly Id: string;
    readonly Expression?: string;
    readonly ReturnData?: boolean;
    readonly MetricStat?: {
      readonly Metric: {
        readonly Namespace: string;
        readonly MetricName: string;
        readonly Dimensions?: ReadonlyArray<{ Name: string; Value: string }>;
      };
      readonly Period: number;
      readonly Stat: string;
    };
  }>;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly Threshold: number | string;
  readonly ComparisonOperator: string;
  readonly TreatMissingData?: string;
}

interface MetricIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** CloudWatch matches a metric by namespace, name and the exact set of dimensions (names and values). */
const sameMetric = (point: Datapoint, metric: MetricIdentity): boolean => {
  const wanted = Object.entries(metric.dimensions);
  return (
    point.namespace === metric.namespace &&
    point.name === metric.name &&
    wanted.length === Object.keys(point.dimensions).length &&
    wanted.every(([name, value]) => point.dimensions[name] === value)
  );
};

const identityOf = (namespace: string, name: string, dimensions: ReadonlyArray<{ Name: string; Value: string }> = []): MetricIdentity => ({
  namespace,
  name,
  dimensions: Object.fromEntries(dimensions.map((d) => [d.Name, String(d.Value)])),
});

const STATISTICS: Readonly<Record<string, (values: readonly number[]) => number>> = {
  Sum: (values) => values.reduce((a, b) => a + b, 0),
  Maximum: (values) => Math.max(...values),
  Minimum: (values) => Math.min(...values),
  Average: (values) => values.reduce((a, b) => a + b, 0) / values.length,
  SampleCount: (values) => values.length,
};

/** One statistic of a metric over the period that starts at `startMs`; undefined when it has no datapoint there. */
const statisticAt = (
  points: readonly Datapoint[],
  metric: MetricIdentity,
  stat: string,
  startMs: number,
  periodMs: number,
): number | undefined => {
  const aggregate = STATISTICS[stat];
  if (aggregate === undefined) throw new Error(`statistic ${stat} is not modelled`);
  const values = points.filter((p) => sameMetric(p, metric) && p.atMs >= startMs && p.atMs < startMs + periodMs).map((p) => p.value);
  return values.length === 0 ? undefined : aggregate(values);
};

/**
 * Metric math over + - * / and parentheses, ids and numbers: the expressions the relay's alarms use.
 * A metric without a value at a timestamp counts as 0, as CloudWatch documents; if none of them has
 * one, the expression has no value there (no datapoint).
 */
export const evaluateExpression = (expression: string, values: Readonly<Record<string, number | undefined>>): number | undefined => {
  const tokens = expression.match(/\s*([A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|[-+*/()])/g)?.map((t) => t.trim()) ?? [];
  if (tokens.join('') !== expression.replace(/\s+/g, '')) throw new Error(`expression not modelled: ${expression}`);
  const ids = tokens.filter((t) => /^[A-Za-z_]/.test(t));
  if (ids.length > 0 && ids.every((id) => values[id] === undefined)) return undefined;
  let i = 0;
  const primary = (): number => {
    const token = tokens[i++];
    if (token === '(') {
      const inner = sum();
      i++;
      return inner;
    }
    if (token === '-') return -primary();
    if (token !== undefined && /^\d/.test(token)) return Number(token);
    if (token === undefined || !(token in values)) throw new Error(`unknown id ${token} in ${expression}`);
    return values[token] ?? 0;
  };
  const product = (): number => {
    let value = primary();
    while (tokens[i] === '*' || tokens[i] === '/') value = tokens[i++] === '*' ? value * primary() : value / primary();
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (tokens[i] === '+' || tokens[i] === '-') value = tokens[i++] === '+' ? value + product() : value - product();
    return value;
  };
  return sum();
};

const COMPARE: Readonly<Record<string, (value: number, threshold: number) => boolean>> = {
  GreaterThanThreshold: (v, t) => v > t,
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

/** The alarm's value for the period that starts at `startMs`: its metric's statistic, or its returned expression. */
const alarmValueAt = (alarm: AlarmDefinition, points: readonly Datapoint[], startMs: number): number | undefined => {
  if (alarm.Metrics === undefined) {
    const metric = identityOf(alarm.Namespace ?? '', alarm.MetricName ?? '', alarm.Dimensions);
    return statisticAt(points, metric, alarm.Statistic ?? '', startMs, Number(alarm.Period) * 1000);
  }
  const values: Record<string, number | undefined> = {};
  for (const query of alarm.Metrics) {
    if (query.MetricStat === undefined) continue;
    const { Metric, Period, Stat } = query.MetricStat;
    values[query.Id] = statisticAt(
      points,
      identityOf(Metric.Namespace, Metric.MetricName, Metric.Dimensions),
      Stat,
      startMs,
      Period * 1000,
    );
  }
  const returned = alarm.Metrics.filter((query) => query.ReturnData !== false && query.Expression !== undefined);
  if (returned.length !== 1) throw new Error('a metric math alarm returns exactly one expression');
  return evaluateExpression(returned[0]?.Expression ?? '', values);
};

/** The alarm's period, in ms: its own, or its metric queries' (all the same for the relay's alarms). */
export const periodMsOf = (alarm: AlarmDefinition): number => {
  const periods =
    alarm.Metrics === undefined ? [Number(alarm.Period)] : alarm.Metrics.flatMap((q) => (q.MetricStat ? [q.MetricStat.Period] : []));
  if (new Set(periods).size !== 1) throw new Error('alarm periods differ');
  return Number(periods[0]) * 1000;
};

/**
 * How long after a datapoint's time an alarm can see it: the Lambda log line has to reach CloudWatch
 * Logs and be turned into a metric (EMF), or the service has to publish it (SQS, every minute).
 * AWS gives no figure; 2 minutes is what we assume, so every time to ALARM printed here includes it.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Alarms.html
 */
export const PROCESSING_DELAY_MS = 120_000;

export interface AlarmState {
  /** When the evaluation could first see the state: the end of the latest period it read, plus the processing delay. */
  readonly atMs: number;
  readonly state: 'OK' | 'ALARM';
}

/**
 * The alarm's state after each period that ends between `fromMs` and `toMs`, stamped with when it
 * could be seen (`processingDelayMs` later). Each evaluation reads the last EvaluationPeriods periods
 * and goes to ALARM when at least DatapointsToAlarm of them breach; with TreatMissingData
 * notBreaching (every relay alarm) a period without data never does.
 */
export const evaluateAlarm = (
  alarm: AlarmDefinition,
  points: readonly Datapoint[],
  fromMs: number,
  toMs: number,
  processingDelayMs = PROCESSING_DELAY_MS,
): AlarmState[] => {
  if (alarm.TreatMissingData !== 'notBreaching') throw new Error(`TreatMissingData ${alarm.TreatMissingData} is not modelled`);
  const compare = COMPARE[alarm.ComparisonOperator];
  if (compare === undefined) throw new Error(`${alarm.ComparisonOperator} is not modelled`);
  const periodMs = periodMsOf(alarm);
  const threshold = Number(alarm.Threshold);
  const needed = alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods;
  const states: AlarmState[] = [];
  for (let end = Math.ceil(fromMs / periodMs) * periodMs; end <= toMs; end += periodMs) {
    let breaching = 0;
    for (let k = 1; k <= alarm.EvaluationPeriods; k++) {
      const value = alarmValueAt(alarm, points, end - k * periodMs);
      if (value !== undefined && compare(value, threshold)) breaching += 1;
    }
    states.push({ atMs: end + processingDelayMs, state: breaching >= needed ? 'ALARM' : 'OK' });
  }
  return states;
};

/** Resolves the template's intrinsics in an alarm's properties with `resolve` (e.g. a queue's name for its GetAtt). */
export const resolveIntrinsics = (value: unknown, resolve: (intrinsic: Record<string, unknown>) => string): unknown => {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, resolve));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && (entries[0]?.[0] === 'Ref' || entries[0]?.[0].startsWith('Fn::')))
    return resolve(value as Record<string, unknown>);
  return Object.fromEntries(entries.map(([key, child]) => [key, resolveIntrinsics(child, resolve)]));
};
