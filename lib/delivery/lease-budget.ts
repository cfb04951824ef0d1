/**
 * Every timing rule of one delivery attempt, in one place. An attempt claims the alert for
 * `leaseMs` (DELIVERY_LEASE_MS), waits for its turn under the rate ceiling, POSTs (at most
 * SQUADCAST_TIMEOUT_MS) and records the result; the lease must outlast all of it, or a second
 * delivery of the same alert could claim it while Squadcast acts on the first and page twice.
 */

/** The settings the budget is made of. */
export interface LeaseSettings {
  /** DELIVERY_LEASE_MS. */
  readonly leaseMs: number;
  /** SQUADCAST_TIMEOUT_MS. */
  readonly squadcastTimeoutMs: number;
}

/**
 * The longest a record waits in a deliver invocation for its turn. deliver's timeout is 30 s: this
 * leaves the rest for the POST (SQUADCAST_TIMEOUT_MS) and the ledger. Beyond it, the record goes back.
 */
export const MAX_WAIT_FOR_TURN_MS = 10_000;

/** Room left in a lease after the wait for a turn and the POST, for the ledger write that ends it. */
export const LEASE_MARGIN_MS = 1_000;

/**
 * The least a lease must leave for the claim itself and the wait for a turn: deliver sends only
 * with SQUADCAST_TIMEOUT_MS + LEASE_MARGIN_MS of lease left, so a lease without this room could
 * never be used.
 */
export const MIN_CLAIM_AND_TURN_MS = 500;

/**
 * How often a delivery that met another one's lease looks again, at most. The holder usually
 * finishes within a POST (a copy of the alert in the same batch, Threat Stack's resend), so waiting
 * out a whole 45-second lease would hold every copy that long; a holder that crashed is found out
 * when its lease ends, a few looks later.
 */
export const IN_FLIGHT_RECHECK_SECONDS = 10;

/**
 * The longest wait for a turn with a claim held: the claim is taken first (an alert already
 * delivered spends no turn), so the wait, the POST and the record must fit inside the lease.
 */
export const maxWaitForTurnMs = (settings: LeaseSettings): number =>
  Math.max(0, Math.min(MAX_WAIT_FOR_TURN_MS, settings.leaseMs - settings.squadcastTimeoutMs - LEASE_MARGIN_MS));

/** How much of a lease a POST and its record need: a turn that comes later in the lease than that is given up, not used. */
export const postWindowMs = (settings: LeaseSettings): number => settings.squadcastTimeoutMs + LEASE_MARGIN_MS;

/** How long a delivery that met another one's live lease waits before it looks again. */
export const inFlightSeconds = (settings: Pick<LeaseSettings, 'leaseMs'>): number =>
  Math.min(Math.ceil(settings.leaseMs / 1000), IN_FLIGHT_RECHECK_SECONDS);

/** True when a POST started at `nowMs` would end, with its record, before the lease that ends at `untilMs`. */
export const fitsInLease = (untilMs: number, nowMs: number, windowMs: number): boolean => nowMs + windowMs <= untilMs;

/**
 * What is wrong with the settings as a budget (an empty list when nothing is). The configuration
 * refuses a lease that ends while its POST may still be out: it would let a second delivery send
 * the same incident.
 */
export const leaseBudgetProblems = (settings: LeaseSettings): string[] => {
  const needs = LEASE_MARGIN_MS + MIN_CLAIM_AND_TURN_MS;
  return settings.leaseMs < settings.squadcastTimeoutMs + needs
    ? [`DELIVERY_LEASE_MS: must be at least SQUADCAST_TIMEOUT_MS + ${needs} (a claim must cover its turn, the request and its record)`]
    : [];
};
