import { inFlightSeconds } from './lease-budget';

/**
 * When deliver tries an alert again, and when it gives up. Time decides, not receive counts: a
 * transient failure is retried until the alert has waited `giveUpSeconds` in the alerts queue
 * (DELIVERY_GIVE_UP_HOURS), and deferrals (the rate ceiling, a lease held by another delivery)
 * neither lengthen the backoff nor give up. SQS's maxReceiveCount stays only as a backstop that
 * attempts and deferrals cannot reach within the budget (see `floorStepSeconds`).
 */
export interface RetryPolicy {
  /** The smallest step: an alert failing in its first seconds comes back after half to all of it. */
  readonly baseSeconds: number;
  /** The largest step: after an outage of any length, every waiting alert is tried again within it. */
  readonly maxSeconds: number;
  /** DELIVERY_GIVE_UP_HOURS in seconds: a failed attempt after the alert has waited this long dead-letters it. */
  readonly giveUpSeconds: number;
  /** How long to wait before looking again when another delivery of the same alert holds the lease. */
  readonly inFlightSeconds: number;
}

/** The deliver settings a retry policy is made of (DELIVERY_RETRY_*, DELIVERY_GIVE_UP_HOURS, DELIVERY_LEASE_MS). */
export interface RetrySettings {
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
  readonly giveUpHours: number;
  readonly leaseMs: number;
}

/** The policy those settings give. */
export const retryPolicyFrom = (settings: RetrySettings): RetryPolicy => ({
  baseSeconds: settings.retryBaseSeconds,
  maxSeconds: settings.retryMaxSeconds,
  giveUpSeconds: settings.giveUpHours * 3_600,
  inFlightSeconds: inFlightSeconds(settings),
});

/**
 * The window of the alarms that watch held-back and failing alerts (AlertsHeldBackAlarm,
 * SquadcastOutageAlarm in infra/alarms/stalls.yml): any breaching minute of the last ten keeps them in ALARM.
 * tests/infra/template.test.ts checks that the template's windows are this.
 */
export const STALL_ALARM_WINDOW_SECONDS = 600;

/**
 * The largest retry step (DELIVERY_RETRY_MAX_SECONDS) the configuration accepts: the default. A
 * failing alert is measured only when it is tried, so the step bounds two things:
 * - flapping: during an outage a datapoint comes at least every step plus the receive (seconds),
 *   well inside the alarms' 10-minute window, so they stay in ALARM until it ends;
 * - the time to ALARM: SquadcastOutageAlarm (300 s of failing) sees a breaching datapoint at most
 *   one step after its threshold is passed, 599 s after the first failure; with the minute period
 *   and CloudWatch's processing of the log line (about 2 minutes), under 14 minutes.
 * tests/infra/alarm-evaluation.test.ts evaluates both at this step on a simulated clock.
 */
export const MAX_RETRY_STEP_SECONDS = 300;

/**
 * The alerts queue's maxReceiveCount (serverless.yml), the largest SQS accepts. Only the backstop:
 * it moves a message deliver cannot handle at all (a crash on every receive) to the dead-letter
 * queue after 1000 visibility timeouts (180 s each: 50 hours).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
 */
export const BACKSTOP_RECEIVES = 1000;

/** The alerts queue keeps a message 14 days (MessageRetentionPeriod, the most SQS allows), then deletes it unread. */
export const QUEUE_RETENTION_HOURS = 14 * 24;

/**
 * The longest give-up budget: a day short of the retention, left for the attempt that finds the
 * budget spent, a backlog at the rate ceiling, and the move to the dead-letter queue. An alert
 * must reach Squadcast or the dead-letter queue before SQS deletes it.
 */
export const MAX_GIVE_UP_HOURS = QUEUE_RETENTION_HOURS - 24;

/** How long past the budget the backstop stays out of reach: time for the attempt that finds it spent. */
export const BACKSTOP_MARGIN_SECONDS = 3_600;

/** Between attempts an alert waits half to all of a step; the step is at most half its age. */
const STEP_PER_SECOND_OF_AGE = 0.5;

/**
 * Why attempts and deferrals cannot reach the backstop within the budget, whatever their mix: the
 * k-th time a message is put back it waits at least k × s, so the receive after its R-th (R = 1000),
 * which SQS turns into the move, comes at least s × R(R+1)/2 after it was queued. With s = 2 × (budget + margin) / (R(R+1)), that is the
 * whole budget plus an hour. For the default 24 h: s = 2 × 90 000 s / 1 001 000 ≈ 0.18 s, a floor
 * that reaches 180 s only at the 1000th receive; the backoff's own gaps (up to `maxSeconds`) stay
 * above it for the ~400 attempts a day-long outage costs, so it only stretches long runs of
 * deferrals (each at least 10 s anyway). For the longest budget (312 h) s ≈ 2.25 s.
 */
export const floorStepSeconds = (policy: RetryPolicy): number =>
  (2 * (policy.giveUpSeconds + BACKSTOP_MARGIN_SECONDS)) / (BACKSTOP_RECEIVES * (BACKSTOP_RECEIVES + 1));

/** The least a message put back for the `receiveCount`-th time waits (see `floorStepSeconds`). */
export const putBackFloorSeconds = (receiveCount: number, policy: RetryPolicy): number =>
  Math.max(1, receiveCount) * floorStepSeconds(policy);

/**
 * The step after a failed attempt: the smaller of half the alert's age and the base doubled per
 * receive, between `baseSeconds` and `maxSeconds`. Each measure covers the other's blind spot:
 * receives grow with deferrals (the rate ceiling, a lease held elsewhere), which must not lengthen
 * the backoff, and age grows with time spent waiting in a busy queue, which must not either. So
 * early failures come back within seconds, and during an outage every alert is tried again at
 * least every `maxSeconds`.
 */
export const retryStepSeconds = (ageSeconds: number, receiveCount: number, policy: RetryPolicy): number => {
  const byAge = Math.max(0, ageSeconds) * STEP_PER_SECOND_OF_AGE;
  const byReceives = policy.baseSeconds * 2 ** Math.min(64, Math.max(0, receiveCount - 1));
  return Math.min(policy.maxSeconds, Math.max(policy.baseSeconds, Math.min(byAge, byReceives)));
};

/**
 * The wait before the next attempt after a transient failure: equal jitter over the step (half
 * fixed, half random, so alerts that failed together come back spread out), at least Squadcast's
 * Retry-After up to `maxSeconds` (a bogus "come back in a year" must not park an alert), and at
 * least the backstop's floor.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export const retryDelaySeconds = (
  ageSeconds: number,
  receiveCount: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterSeconds = 0,
): number => {
  const step = retryStepSeconds(ageSeconds, receiveCount, policy);
  const jittered = step / 2 + random() * (step / 2);
  return Math.max(jittered, Math.min(retryAfterSeconds, policy.maxSeconds), putBackFloorSeconds(receiveCount, policy));
};

/** A deferral (rate ceiling, lease held elsewhere) waits what it asked for, and at least the backstop's floor. */
export const deferralSeconds = (delaySeconds: number, receiveCount: number, policy: RetryPolicy): number =>
  Math.max(delaySeconds, putBackFloorSeconds(receiveCount, policy));

/** "25 h 3 min", "4 min 10 s": how long an alert waited, for a dead letter's reason. */
export const describeWait = (seconds: number): string => {
  const whole = Math.max(0, Math.floor(seconds));
  const [hours, minutes, secs] = [Math.floor(whole / 3_600), Math.floor((whole % 3_600) / 60), whole % 60];
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min ${secs} s`;
};
