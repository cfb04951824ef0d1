import {
  billedSqsRequests,
  diffCounts,
  median,
  medianRatio,
  minBatchRequestsPerMessage,
  percentile,
  slope,
  sumCounts,
} from '../../bench/stats';

describe('percentile', () => {
  it.each<[string, number[], number, number]>([
    ['median of an odd count', [3, 1, 2], 50, 2],
    ['median of an even count interpolates', [4, 1, 3, 2], 50, 2.5],
    ['p0 is the minimum', [5, 9, 1], 0, 1],
    ['p100 is the maximum', [5, 9, 1], 100, 9],
    ['p99 of 1..101 is 100', Array.from({ length: 101 }, (_, i) => i + 1), 99, 100],
    ['one value', [7], 90, 7],
  ])('%s', (_name, values, p, expected) => {
    expect(percentile(values, p)).toBeCloseTo(expected, 10);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('refuses an empty sample and a percentile out of range', () => {
    expect(() => percentile([], 50)).toThrow('empty');
    expect(() => percentile([1], 101)).toThrow('out of range');
    expect(() => percentile([1], Number.NaN)).toThrow('out of range');
  });
});

describe('medianRatio', () => {
  it('is the median of the paired ratios, not the ratio of the medians', () => {
    // Pairs: 2/1, 3/3, 8/2 -> ratios 2, 1, 4 -> median 2 (medians 3/2 would give 1.5).
    expect(medianRatio([2, 3, 8], [1, 3, 2])).toBe(2);
  });

  it('refuses samples that are not paired', () => {
    expect(() => medianRatio([1, 2], [1])).toThrow('paired');
  });
});

describe('minBatchRequestsPerMessage', () => {
  it.each<[number, number]>([
    [1, 1],
    [7, 1 / 7],
    [10, 0.1],
    [11, 2 / 11],
    [100, 0.1],
    [1000, 0.1],
  ])('%i messages need ⌈n/10⌉/n requests each', (n, expected) => {
    expect(minBatchRequestsPerMessage(n)).toBeCloseTo(expected, 12);
  });
});

describe('billing units', () => {
  it.each<[number, number]>([
    [0, 1],
    [1, 1],
    [65_536, 1],
    [65_537, 2],
    [262_144, 4],
  ])('an SQS payload of %i bytes is billed as %i requests', (bytes, requests) => {
    expect(billedSqsRequests(bytes)).toBe(requests);
  });
});

describe('counts', () => {
  it('diffs by name, leaving out what did not change', () => {
    expect(diffCounts({ PutItem: 5, GetItem: 1, Query: 2 }, { PutItem: 2, GetItem: 1 })).toEqual({ PutItem: 3, Query: 2 });
  });

  it('sums all counts, or those a filter keeps', () => {
    expect(sumCounts({ SendMessageBatch: 3, ReceiveMessage: 2 })).toBe(5);
    expect(sumCounts({ SendMessageBatch: 3, ReceiveMessage: 2 }, (name) => name.startsWith('Send'))).toBe(3);
    expect(sumCounts({})).toBe(0);
  });
});

describe('slope', () => {
  it('fits a least-squares line', () => {
    expect(slope([1, 2, 3], [2, 4, 6])).toBeCloseTo(2, 12);
    expect(slope([0, 10, 20, 30], [5, 7, 9, 11])).toBeCloseTo(0.2, 12);
  });

  it('needs two distinct x values', () => {
    expect(() => slope([1], [1])).toThrow('two or more');
    expect(() => slope([2, 2], [1, 3])).toThrow('vertical');
  });
});
