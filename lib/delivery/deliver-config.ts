import * as t from 'io-ts';
import { ConfigError } from '../common/config-error';
import type { SecretSource } from '../config/env-codecs';
import {
  decodeEnv,
  intInRange,
  NonEmpty,
  Queues,
  SecretsEnv,
  SquadcastMaxPerMinute,
  secretSource,
  settingOrThrow,
  withDefault,
} from '../config/env-codecs';
import type { Priority, SeverityPriorities } from '../incident/priorities';
import { parsePriorities, parseUnknownPriority } from '../incident/priorities';
import { leaseBudgetProblems } from './lease-budget';
import { MAX_GIVE_UP_HOURS, MAX_RETRY_STEP_SECONDS } from './retry-budget';

/** deliver's settings, read once at its start, and checked against the delivery rules they feed. */
const DeliverEnv = t.intersection([
  Queues,
  SecretsEnv,
  t.type({
    LEDGER_TABLE_NAME: NonEmpty,
    SQUADCAST_TIMEOUT_MS: withDefault(intInRange(100, 60_000), 8_000),
    DELIVERY_CONCURRENCY: withDefault(intInRange(1, 100), 10),
    DELIVERY_LEASE_MS: withDefault(intInRange(1_000, 900_000), 45_000),
    // A retry's step: the smaller of half the alert's age and this doubled per receive, up to the max (lib/delivery/retry-budget.ts).
    // At least 1: 0 would retry a failing alert at once, again and again (a hot loop against Squadcast).
    DELIVERY_RETRY_BASE_SECONDS: withDefault(intInRange(1, 3_600), 2),
    // SQS's longest visibility timeout is 12 h.
    DELIVERY_RETRY_MAX_SECONDS: withDefault(intInRange(1, 43_200), 300),
    // A day short of the queue's 14-day retention at most: the alert must reach the dead-letter queue before SQS deletes it.
    DELIVERY_GIVE_UP_HOURS: withDefault(intInRange(1, MAX_GIVE_UP_HOURS), 24),
    SQUADCAST_MAX_PER_MINUTE: SquadcastMaxPerMinute,
    // Must equal the sqs event's maximumConcurrency in serverless.yml: each container sends its share.
    DELIVERY_MAX_INVOCATIONS: withDefault(intInRange(1, 1_000), 2),
  }),
]);

export interface DeliverConfig {
  readonly alertsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly ledgerTableName: string;
  readonly squadcastUrl: SecretSource;
  readonly secretsMaxAgeSeconds: number;
  readonly squadcastTimeoutMs: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
  /** A transient failure after the alert has waited this long in the queue dead-letters it. */
  readonly giveUpHours: number;
  /** The relay-wide ceiling on incidents sent to Squadcast per minute. */
  readonly maxPerMinute: number;
  /** Deliver invocations that run at once: the ceiling is shared between them. */
  readonly maxInvocations: number;
  /** Squadcast priority per Threat Stack severity (SEVERITY_PRIORITIES). */
  readonly severityPriorities: SeverityPriorities;
  /** Squadcast priority of an alert whose severity could not be read (UNKNOWN_SEVERITY_PRIORITY). */
  readonly unknownSeverityPriority: Priority;
}

export const readDeliverConfig = (env: NodeJS.ProcessEnv): DeliverConfig => {
  const raw = decodeEnv(DeliverEnv, env);
  const severityPriorities = settingOrThrow('SEVERITY_PRIORITIES', parsePriorities(env.SEVERITY_PRIORITIES));
  const unknownSeverityPriority = settingOrThrow(
    'UNKNOWN_SEVERITY_PRIORITY',
    parseUnknownPriority(env.UNKNOWN_SEVERITY_PRIORITY, severityPriorities),
  );
  if (raw.SQUADCAST_MAX_PER_MINUTE < raw.DELIVERY_MAX_INVOCATIONS) {
    throw new ConfigError([
      'SQUADCAST_MAX_PER_MINUTE: must be at least DELIVERY_MAX_INVOCATIONS (each invocation needs one send a minute)',
    ]);
  }
  if (raw.DELIVERY_RETRY_BASE_SECONDS > raw.DELIVERY_RETRY_MAX_SECONDS) {
    throw new ConfigError([
      'DELIVERY_RETRY_BASE_SECONDS: must not be above DELIVERY_RETRY_MAX_SECONDS (the first step would pass the cap)',
    ]);
  }
  if (raw.DELIVERY_RETRY_MAX_SECONDS > MAX_RETRY_STEP_SECONDS) {
    throw new ConfigError([
      `DELIVERY_RETRY_MAX_SECONDS: at most ${MAX_RETRY_STEP_SECONDS}, so that AlertsHeldBackAlarm and SquadcastOutageAlarm see a failing ` +
        'alert within 15 minutes, and stay in ALARM until it is delivered (a longer step leaves gaps their 10-minute window cannot cover)',
    ]);
  }
  // A lease that ends while its POST is still out lets a second delivery send the same incident.
  const leaseProblems = leaseBudgetProblems({ leaseMs: raw.DELIVERY_LEASE_MS, squadcastTimeoutMs: raw.SQUADCAST_TIMEOUT_MS });
  if (leaseProblems.length > 0) throw new ConfigError(leaseProblems);
  return {
    alertsQueueUrl: raw.ALERTS_QUEUE_URL,
    deadLetterQueueUrl: raw.DEAD_LETTER_QUEUE_URL,
    ledgerTableName: raw.LEDGER_TABLE_NAME,
    squadcastUrl: secretSource(env, 'SQUADCAST_WEBHOOK_URL'),
    secretsMaxAgeSeconds: raw.SECRETS_MAX_AGE_SECONDS,
    squadcastTimeoutMs: raw.SQUADCAST_TIMEOUT_MS,
    concurrency: raw.DELIVERY_CONCURRENCY,
    leaseMs: raw.DELIVERY_LEASE_MS,
    retryBaseSeconds: raw.DELIVERY_RETRY_BASE_SECONDS,
    retryMaxSeconds: raw.DELIVERY_RETRY_MAX_SECONDS,
    giveUpHours: raw.DELIVERY_GIVE_UP_HOURS,
    maxPerMinute: raw.SQUADCAST_MAX_PER_MINUTE,
    maxInvocations: raw.DELIVERY_MAX_INVOCATIONS,
    severityPriorities,
    unknownSeverityPriority,
  };
};
