import type { CircuitBreaker } from '../../../lib/delivery/circuit-breaker';
import { circuitBreakerOptions, createCircuitBreaker } from '../../../lib/delivery/circuit-breaker';

const T0 = 1_700_000_000_000;
const breaker = (): CircuitBreaker => createCircuitBreaker(circuitBreakerOptions(8_000));

/** `n` failed sends answered at T0 + 0, 1, 2... ms. */
const failTimes = (b: CircuitBreaker, n: number, from = T0): number => {
  for (let i = 0; i < n; i += 1) b.answered('send', false, from + i);
  return from + n - 1;
};

describe('createCircuitBreaker', () => {
  it('lets every send go while Squadcast answers, and after fewer than five failures in a row', () => {
    const b = breaker();
    expect(b.admit(T0)).toBe('send');
    failTimes(b, 4);
    expect(b.holding(T0 + 10)).toBeUndefined();
    expect(b.admit(T0 + 10)).toBe('send');
  });

  it('a success, or a refusal (any answer but a transient failure), starts the count again', () => {
    const b = breaker();
    failTimes(b, 4);
    b.answered('send', true, T0 + 5);
    failTimes(b, 4, T0 + 6);
    expect(b.admit(T0 + 20)).toBe('send');
  });

  it('opens at the fifth failure in a row: the rest is held back, with the time of the first failure', () => {
    const b = breaker();
    const last = failTimes(b, 5);
    expect(b.holding(last + 1)).toBe(T0);
    expect(b.admit(last + 1)).toEqual({ failingSince: T0 });
  });

  it('lets one probe through once the step (half a second at first) has passed, and holds the rest while it is out', () => {
    const b = breaker();
    const last = failTimes(b, 5);
    expect(b.admit(last + 499)).toEqual({ failingSince: T0 });
    expect(b.holding(last + 500)).toBeUndefined();
    expect(b.admit(last + 500)).toBe('probe');
    expect(b.holding(last + 501)).toBe(T0);
    expect(b.admit(last + 501)).toEqual({ failingSince: T0 });
  });

  it('a failed probe sets the next one a step later; the step is 0.1 % of the time failing, from 0.5 s to 60 s', () => {
    const b = breaker();
    failTimes(b, 5);
    const probeAt = (at: number): number => {
      expect(b.admit(at)).toBe('probe');
      b.answered('probe', false, at);
      return at;
    };
    // 2000 s into the outage: a step of 2 s.
    const at = probeAt(T0 + 2_000_000);
    expect(b.admit(at + 1_999)).toEqual({ failingSince: T0 });
    probeAt(at + 2_000);
    // A day into it: a minute, at most.
    const late = probeAt(T0 + 86_400_000);
    expect(b.admit(late + 59_999)).toEqual({ failingSince: T0 });
    expect(b.admit(late + 60_000)).toBe('probe');
  });

  it('the first good answer closes it: every send goes again, and a later failure counts from one', () => {
    const b = breaker();
    const last = failTimes(b, 5);
    expect(b.admit(last + 1_000)).toBe('probe');
    b.answered('probe', true, last + 1_100);
    expect(b.admit(last + 1_101)).toBe('send');
    failTimes(b, 4, last + 2_000);
    expect(b.admit(last + 3_000)).toBe('send');
  });

  it('a send admitted before it opened and answered after does not push the next probe out', () => {
    const b = breaker();
    const last = failTimes(b, 5);
    b.answered('send', false, last + 400);
    expect(b.admit(last + 500)).toBe('probe');
  });

  it('a good answer to a send admitted before it opened closes it too', () => {
    const b = breaker();
    const last = failTimes(b, 5);
    b.answered('send', true, last + 10);
    expect(b.admit(last + 11)).toBe('send');
  });

  it('a probe that never answers gives its place up after the request timeout and 5 s', () => {
    const b = breaker();
    const last = failTimes(b, 5);
    expect(b.admit(last + 1_000)).toBe('probe');
    expect(b.admit(last + 1_000 + 12_999)).toEqual({ failingSince: T0 });
    expect(b.admit(last + 1_000 + 13_000)).toBe('probe');
  });

  it('ships these settings', () => {
    expect(circuitBreakerOptions(8_000)).toEqual({
      opensAfter: 5,
      minStepMs: 500,
      maxStepMs: 60_000,
      stepShare: 0.001,
      probeTimeoutMs: 13_000,
    });
  });
});
