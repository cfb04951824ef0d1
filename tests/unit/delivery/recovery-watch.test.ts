import { createRecoveryWatch, RECOVERY_WATCH } from '../../../lib/delivery/recovery-watch';

const watch = (maxParked = 10) => createRecoveryWatch({ outageMs: 30_000, maxParked });

describe('createRecoveryWatch', () => {
  it('wakes nothing while Squadcast has not come back', () => {
    const w = watch();
    w.answered(false, 0);
    w.parked('h1', 100_000, 0);
    w.answered(false, 40_000);
    expect(w.wake(40_000)).toEqual([]);
  });

  it('after 30 s or more of failures, the first success hands back the records still parked, once', () => {
    const w = watch();
    w.answered(false, 0);
    w.parked('due-already', 20_000, 0);
    w.parked('h1', 200_000, 10_000);
    w.parked('h2', 300_000, 20_000);
    w.answered(false, 25_000);
    w.answered(true, 30_000);
    expect(w.wake(31_000)).toEqual(['h1', 'h2']);
    expect(w.wake(32_000)).toEqual([]);
  });

  it('a success within 30 s of the first failure is no recovery: random failures never wake anything', () => {
    const w = watch();
    for (let t = 0; t < 600_000; t += 1_000) {
      w.answered(t % 3_000 !== 0, t);
      w.parked(`h${t}`, t + 100_000, t);
    }
    expect(w.wake(600_000)).toEqual([]);
  });

  it('restarts the outage clock after each success', () => {
    const w = watch();
    w.answered(false, 0);
    w.answered(true, 20_000);
    w.answered(false, 25_000);
    w.parked('h1', 500_000, 25_000);
    w.answered(true, 50_000);
    expect(w.wake(50_000)).toEqual([]);
    w.answered(false, 60_000);
    w.answered(true, 90_000);
    expect(w.wake(90_000)).toEqual(['h1']);
  });

  it('remembers at most maxParked records: those already due go first, then the ones parked first', () => {
    const w = watch(3);
    w.parked('due', 5_000, 0);
    w.parked('a', 100_000, 0);
    w.parked('b', 100_000, 1_000);
    w.parked('c', 100_000, 10_000);
    w.parked('d', 100_000, 11_000);
    w.answered(false, 0);
    w.answered(true, 40_000);
    expect(w.wake(40_000)).toEqual(['b', 'c', 'd']);
  });

  it("deliver's settings: 30 s, 1000 records", () => {
    expect(RECOVERY_WATCH).toEqual({ outageMs: 30_000, maxParked: 1_000 });
  });
});
