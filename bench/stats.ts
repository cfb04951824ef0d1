/** Pure helpers for the benchmark: statistics over rounds, and the limits the figures are compared with. */

/** Median of a non-empty sample (mean of the two middle values for an even count). */
export const median = (values: readonly number[]): number => percentile(values, 50);

/**
 * Percentile by linear interpolation between closest ranks (the "R-7" rule of most
 * spreadsheets): p50 of [1, 2, 3, 4] is 2.5, p100 is the maximum.
 */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) throw new Error('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile out of range: ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  return lowValue + (rank - low) * ((sorted[high] as number) - lowValue);
};

/** Median of per-round ratios `numerator[i] / denominator[i]`: rounds are paired, so drift cancels. */
export const medianRatio = (numerators: readonly number[], denominators: readonly number[]): number => {
  if (numerators.length !== denominators.length) throw new Error('paired samples differ in length');
  return median(numerators.map((n, i) => n / (denominators[i] as number)));
};

/** The fewest SendMessageBatch calls that can carry `n` messages: ⌈n/10⌉, per message. */
export const minBatchRequestsPerMessage = (n: number, perRequest = 10): number => Math.ceil(n / perRequest) / n;

/** SQS bills every started 64 KiB of a request's payload as one request. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;
export const billedSqsRequests = (payloadBytes: number): number => Math.max(1, Math.ceil(payloadBytes / SQS_BILLING_CHUNK_BYTES));

/** Counts by name, after minus before; names that did not change are left out. */
export const diffCounts = (after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> => {
  const diff: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const delta = value - (before[name] ?? 0);
    if (delta !== 0) diff[name] = delta;
  }
  return diff;
};

/** Sum of the counts whose name passes `include` (e.g. every DynamoDB operation). */
export const sumCounts = (counts: Readonly<Record<string, number>>, include: (name: string) => boolean = () => true): number =>
  Object.entries(counts).reduce((sum, [name, value]) => (include(name) ? sum + value : sum), 0);

/** Least-squares slope of y over x (e.g. peak RSS bytes per alert across batch sizes). */
export const slope = (xs: readonly number[], ys: readonly number[]): number => {
  if (xs.length !== ys.length || xs.length < 2) throw new Error('slope needs two or more paired points');
  const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  const mx = mean(xs);
  const my = mean(ys);
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * ((ys[i] as number) - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  if (den === 0) throw new Error('slope of a vertical line');
  return num / den;
};
