import { backoffWithJitter, sleep } from '../../../lib/common/backoff';

describe('backoffWithJitter', () => {
  it.each<[number, number, number, number, number]>([
    // attempt, baseMs, capMs, random, expected: step = min(cap, base * 2^(attempt-1)); step/2 + random * step/2
    [1, 1_000, 60_000, 0, 500],
    [1, 1_000, 60_000, 1, 1_000],
    [1, 1_000, 60_000, 0.5, 750],
    [2, 1_000, 60_000, 0, 1_000],
    [3, 1_000, 60_000, 1, 4_000],
    [7, 1_000, 60_000, 1, 60_000],
    [30, 1_000, 60_000, 0, 30_000],
    [0, 1_000, 60_000, 1, 1_000],
    [-3, 1_000, 60_000, 1, 1_000],
    [5, 0, 60_000, 0.7, 0],
    [1, 333, 60_000, 0.5, 250],
  ])('attempt %p, base %p, cap %p, random %p -> %p ms', (attempt, base, cap, random, expected) => {
    expect(backoffWithJitter(attempt, base, cap, () => random)).toBe(expected);
  });

  it('stays within [step/2, step] with the default random', () => {
    for (let i = 0; i < 200; i++) {
      const ms = backoffWithJitter(4, 100, 10_000);
      expect(ms).toBeGreaterThanOrEqual(400);
      expect(ms).toBeLessThanOrEqual(800);
    }
  });

  it('never exceeds the cap, even for a huge attempt number', () => {
    expect(backoffWithJitter(10_000, 1_000, 5_000, () => 1)).toBe(5_000);
  });
});

describe('sleep', () => {
  afterEach(() => jest.useRealTimers());

  it('resolves after the given time', async () => {
    jest.useFakeTimers();
    let done = false;
    const sleeping = sleep(1_000).then(() => {
      done = true;
    });
    await jest.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(done).toBe(true);
  });
});
