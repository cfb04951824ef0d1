import { seededRandom } from '../../devkit/seeded-random';
import { TimerHeap, VirtualClock } from '../helpers/delivery-simulation';

/** The simulated clock the outage and rate-limit tests run on. */
describe('TimerHeap', () => {
  it('gives timers back earliest first, and those due at once in the order they were set', () => {
    const heap = new TimerHeap();
    const random = seededRandom(3);
    const timers = Array.from({ length: 2_000 }, (_, seq) => ({ at: Math.floor(random() * 50), seq, resolve: () => undefined }));
    for (const timer of timers) heap.push(timer);

    const popped = Array.from({ length: timers.length }, () => heap.pop());

    expect(heap.size).toBe(0);
    expect(heap.pop()).toBeUndefined();
    expect(popped.map((t) => [t?.at, t?.seq])).toEqual([...timers].sort((a, b) => a.at - b.at || a.seq - b.seq).map((t) => [t.at, t.seq]));
  });
});

describe('VirtualClock', () => {
  it('wakes sleepers in time order, moving the clock only as far as the next timer', async () => {
    const clock = new VirtualClock();
    const woken: Array<[string, number]> = [];
    const sleeper = async (name: string, ms: number) => {
      await clock.sleep(ms);
      woken.push([name, clock.now]);
    };
    void sleeper('c', 300);
    void sleeper('a', 100);
    void sleeper('b', 100);

    await clock.run(() => woken.length === 3, 1_000);

    expect(woken).toEqual([
      ['a', 100],
      ['b', 100],
      ['c', 300],
    ]);
  });

  it('says so when the simulation waits on nothing, or runs past its virtual limit', async () => {
    await expect(new VirtualClock().run(() => false, 1_000)).rejects.toThrow('simulation stalled');
    const clock = new VirtualClock();
    void clock.sleep(5_000);
    await expect(clock.run(() => false, 1_000)).rejects.toThrow('simulation ran past 1000 ms');
  });
});
