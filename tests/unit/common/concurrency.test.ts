import { mapWithConcurrency } from '../../../lib/common/concurrency';
import type { Deferred } from '../../helpers/fakes';
import { deferred, flushPromises } from '../../helpers/fakes';

describe('mapWithConcurrency', () => {
  it('keeps the input order, whatever order the calls finish in', async () => {
    const delays = [30, 0, 20, 5, 10];
    const results = await mapWithConcurrency(delays, 3, async (ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms * 2;
    });
    expect(results).toEqual([60, 0, 40, 10, 20]);
  });

  it('calls fn once for each item', async () => {
    const fn = jest.fn(async (n: number) => n);
    await mapWithConcurrency([1, 2, 3, 4, 5, 6, 7], 3, fn);
    expect(fn.mock.calls.map(([n]) => n).sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('returns an empty array for no items, without calling fn', async () => {
    const fn = jest.fn(async (n: number) => n);
    expect(await mapWithConcurrency([], 5, fn)).toEqual([]);
    expect(fn).not.toHaveBeenCalled();
  });

  it.each<[number, number, number]>([
    [1, 5, 1],
    [2, 5, 2],
    [5, 5, 5],
    [10, 5, 5],
    [0, 3, 1],
    [-1, 3, 1],
  ])('limit %p over %p items runs at most %p at once', async (limit, count, expected) => {
    const held: Array<Deferred<void>> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const running = mapWithConcurrency(
      Array.from({ length: count }, (_, i) => i),
      limit,
      async (i) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const gate = deferred<void>();
        held.push(gate);
        await gate.promise;
        inFlight--;
        return i;
      },
    );
    for (let released = 0; released < count; released++) {
      await flushPromises();
      expect(inFlight).toBe(Math.min(expected, count - released));
      held[released]?.resolve();
    }
    expect(await running).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(maxInFlight).toBe(expected);
  });

  it('rejects when fn rejects', async () => {
    await expect(mapWithConcurrency([1, 2], 2, async (n) => (n === 2 ? Promise.reject(new Error('boom')) : n))).rejects.toThrow('boom');
  });
});
