import {
  fitsInLease,
  inFlightSeconds,
  LEASE_MARGIN_MS,
  leaseBudgetProblems,
  MAX_WAIT_FOR_TURN_MS,
  MIN_CLAIM_AND_TURN_MS,
  maxWaitForTurnMs,
  postWindowMs,
} from '../../../lib/delivery/lease-budget';

/** lib/delivery/lease-budget.ts: every timing rule of one attempt, and what the configuration refuses. */
describe('the lease budget', () => {
  it('waits for a turn at most what the lease leaves after the POST and its record, and never more than 10 s', () => {
    expect(maxWaitForTurnMs({ leaseMs: 45_000, squadcastTimeoutMs: 8_000 })).toBe(MAX_WAIT_FOR_TURN_MS);
    expect(maxWaitForTurnMs({ leaseMs: 12_000, squadcastTimeoutMs: 8_000 })).toBe(12_000 - 8_000 - LEASE_MARGIN_MS);
    expect(maxWaitForTurnMs({ leaseMs: 8_500, squadcastTimeoutMs: 8_000 })).toBe(0);
  });

  it('needs the request timeout and the margin of the lease to send; at the edge it fits, a millisecond later it does not', () => {
    const window = postWindowMs({ leaseMs: 45_000, squadcastTimeoutMs: 8_000 });
    expect(window).toBe(8_000 + LEASE_MARGIN_MS);
    expect(fitsInLease(100_000, 100_000 - window, window)).toBe(true);
    expect(fitsInLease(100_000, 100_000 - window + 1, window)).toBe(false);
  });

  it('looks at an alert another delivery holds again within 10 s, or the whole lease when it is shorter', () => {
    expect(inFlightSeconds({ leaseMs: 45_000 })).toBe(10);
    expect(inFlightSeconds({ leaseMs: 7_500 })).toBe(8);
  });

  it('refuses a lease that cannot cover its turn, the request and its record, naming the settings', () => {
    expect(leaseBudgetProblems({ leaseMs: 8_000 + LEASE_MARGIN_MS + MIN_CLAIM_AND_TURN_MS, squadcastTimeoutMs: 8_000 })).toEqual([]);
    expect(leaseBudgetProblems({ leaseMs: 8_000 + LEASE_MARGIN_MS + MIN_CLAIM_AND_TURN_MS - 1, squadcastTimeoutMs: 8_000 })).toEqual([
      'DELIVERY_LEASE_MS: must be at least SQUADCAST_TIMEOUT_MS + 1500 (a claim must cover its turn, the request and its record)',
    ]);
  });
});
