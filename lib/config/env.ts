import * as t from 'io-ts';
import type { Severity } from '../alert/codec';
import type { Checked } from '../common/checked';
import { decodeWith, invalid, valid, valueOrThrow } from '../common/checked';
import { ConfigError } from '../common/config-error';
import { Secret } from '../common/secret';
import { leaseBudgetProblems } from '../delivery/lease-budget';
import { MAX_GIVE_UP_HOURS, MAX_RETRY_STEP_SECONDS } from '../delivery/retry-budget';
import type { Priority, SeverityPriorities } from '../incident/to-incident';
import { DEFAULT_PRIORITIES, highestPriority, PRIORITIES } from '../incident/to-incident';
import type { SourceAllowlist } from '../ingest/source-allowlist';
import { parseAllowlist, THREAT_STACK_SOURCE_IPS } from '../ingest/source-allowlist';

const NonEmpty = t.refinement(t.string, (s) => s.trim() !== '', 'non-empty string');

const intInRange = (min: number, max: number) =>
  new t.Type<number, string, unknown>(
    `integer ${min}..${max}`,
    (u): u is number => typeof u === 'number',
    (u, c) => {
      const n = typeof u === 'string' && /^\d+$/.test(u.trim()) ? Number(u) : NaN;
      return Number.isSafeInteger(n) && n >= min && n <= max ? t.success(n) : t.failure(u, c);
    },
    String,
  );

const withDefault = <C extends t.Mixed>(codec: C, fallback: t.TypeOf<C>) =>
  new t.Type<t.TypeOf<C>, unknown, unknown>(
    codec.name,
    codec.is,
    (u, c) => (u === undefined || u === '' ? t.success(fallback) : codec.validate(u, c)),
    codec.encode,
  );

/** Where a secret comes from: the environment (local use) or an SSM SecureString parameter (AWS). */
export type SecretSource = { readonly kind: 'value'; readonly secret: Secret } | { readonly kind: 'parameter'; readonly name: string };

const decodeEnv = <C extends t.Mixed>(codec: C, env: NodeJS.ProcessEnv): t.TypeOf<C> =>
  valueOrThrow(decodeWith(codec, env), (problems) => new ConfigError(problems));

/** A parsed setting's value, or a ConfigError that names the key and the problem. */
const settingOrThrow = <T>(key: string, checked: Checked<T>): T =>
  valueOrThrow(checked, (problems) => new ConfigError(problems.map((problem) => `${key}: ${problem}`)));

const secretSource = (env: NodeJS.ProcessEnv, valueKey: string): SecretSource => {
  const value = env[valueKey];
  const parameter = env[`${valueKey}_PARAMETER`];
  if (value !== undefined && value !== '') return { kind: 'value', secret: new Secret(value) };
  if (parameter !== undefined && parameter.trim() !== '') return { kind: 'parameter', name: parameter.trim() };
  throw new ConfigError([`${valueKey}: set it, or ${valueKey}_PARAMETER (an SSM SecureString parameter name)`]);
};

/** A secret that may be left out: neither the value nor the parameter set means none. */
const optionalSecretSource = (env: NodeJS.ProcessEnv, valueKey: string): SecretSource | undefined =>
  env[valueKey] || env[`${valueKey}_PARAMETER`]?.trim() ? secretSource(env, valueKey) : undefined;

/**
 * SECRETS_MAX_AGE_SECONDS: how long a secret read from SSM is reused before it is read again, so a
 * rotated value takes effect within that time, with no redeploy. 0 reads it on every invocation.
 */
const SecretsEnv = t.type({ SECRETS_MAX_AGE_SECONDS: withDefault(intInRange(0, 3_600), 300) });

const Queues = t.type({ ALERTS_QUEUE_URL: NonEmpty, DEAD_LETTER_QUEUE_URL: NonEmpty });

export interface IngestConfig {
  readonly alertsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly token: SecretSource;
  /** The token being rotated out (WEBHOOK_TOKEN_PREVIOUS[_PARAMETER]): accepted too while it is set. */
  readonly previousToken: SecretSource | undefined;
  readonly secretsMaxAgeSeconds: number;
  readonly allowlist: SourceAllowlist;
  /** Severities that page (DELIVER_SEVERITIES); the others are answered 2xx, counted and dropped. */
  readonly deliverSeverities: ReadonlySet<Severity>;
}

const SEVERITY_WORDS: Readonly<Record<string, Severity>> = { '1': 1, '2': 2, '3': 3, high: 1, medium: 2, low: 3 };

/**
 * DELIVER_SEVERITIES: a comma-separated list of 1, 2, 3 (or high, medium, low); empty means all.
 * Filtering every severity out is refused: the relay would then page no one, silently.
 */
export const parseSeverities = (text: string | undefined): Checked<ReadonlySet<Severity>> => {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return valid(new Set<Severity>([1, 2, 3]));
  const severities = new Set<Severity>();
  for (const [index, entry] of entries.entries()) {
    const severity = SEVERITY_WORDS[entry];
    if (severity === undefined) return invalid(`entry ${index + 1} is not a severity (1, 2, 3, high, medium or low)`);
    severities.add(severity);
  }
  return valid(severities);
};

/**
 * SEVERITY_PRIORITIES: `severity=priority` pairs, e.g. `1=P1,2=P3,3=P5`; severities left out keep
 * the default (1=P1, 2=P2, 3=P3).
 */
export const parsePriorities = (text: string | undefined): Checked<SeverityPriorities> => {
  const priorities: Record<Severity, Priority> = { ...DEFAULT_PRIORITIES };
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const [index, entry] of entries.entries()) {
    const [severityText = '', priorityText = '', ...rest] = entry.split('=').map((part) => part.trim());
    const severity = SEVERITY_WORDS[severityText.toLowerCase()];
    const priority = PRIORITIES.find((p) => p === priorityText.toUpperCase());
    if (severity === undefined || priority === undefined || rest.length > 0) {
      return invalid(`entry ${index + 1} must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)`);
    }
    priorities[severity] = priority;
  }
  return valid(priorities);
};

/**
 * UNKNOWN_SEVERITY_PRIORITY: the Squadcast priority of an alert whose severity could not be read,
 * `P1` to `P5`; empty means the highest priority SEVERITY_PRIORITIES uses (an unknown severity may be the worst).
 */
export const parseUnknownPriority = (text: string | undefined, priorities: SeverityPriorities): Checked<Priority> => {
  const entry = (text ?? '').trim().toUpperCase();
  if (entry === '') return valid(highestPriority(priorities));
  const priority = PRIORITIES.find((p) => p === entry);
  return priority === undefined ? invalid('must be P1 to P5, or empty for the highest priority SEVERITY_PRIORITIES uses') : valid(priority);
};

export const readIngestConfig = (env: NodeJS.ProcessEnv): IngestConfig => {
  const raw = decodeEnv(
    t.intersection([Queues, SecretsEnv, t.partial({ ALLOWED_SOURCE_IPS: t.string, DELIVER_SEVERITIES: t.string })]),
    env,
  );
  const entries = raw.ALLOWED_SOURCE_IPS?.trim()
    ? raw.ALLOWED_SOURCE_IPS.split(',').filter((entry) => entry.trim() !== '')
    : THREAT_STACK_SOURCE_IPS;
  const allowlist = settingOrThrow('ALLOWED_SOURCE_IPS', parseAllowlist(entries));
  const deliverSeverities = settingOrThrow('DELIVER_SEVERITIES', parseSeverities(raw.DELIVER_SEVERITIES));
  return {
    alertsQueueUrl: raw.ALERTS_QUEUE_URL,
    deadLetterQueueUrl: raw.DEAD_LETTER_QUEUE_URL,
    token: secretSource(env, 'WEBHOOK_TOKEN'),
    previousToken: optionalSecretSource(env, 'WEBHOOK_TOKEN_PREVIOUS'),
    secretsMaxAgeSeconds: raw.SECRETS_MAX_AGE_SECONDS,
    allowlist,
    deliverSeverities,
  };
};

// Half the smallest paid Squadcast plan (Pro: 300 a minute), leaving room for the account's other sources.
const SquadcastMaxPerMinute = withDefault(intInRange(1, 1_000_000), 150);

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

export interface StatusConfig {
  readonly alertsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly ledgerTableName: string;
  /** deliver's ceiling (the same setting): how fast the queue drains at most, for the status to say. */
  readonly squadcastMaxPerMinute: number;
}

export const readStatusConfig = (env: NodeJS.ProcessEnv): StatusConfig => {
  const raw = decodeEnv(
    t.intersection([Queues, t.type({ LEDGER_TABLE_NAME: NonEmpty, SQUADCAST_MAX_PER_MINUTE: SquadcastMaxPerMinute })]),
    env,
  );
  return {
    alertsQueueUrl: raw.ALERTS_QUEUE_URL,
    deadLetterQueueUrl: raw.DEAD_LETTER_QUEUE_URL,
    ledgerTableName: raw.LEDGER_TABLE_NAME,
    squadcastMaxPerMinute: raw.SQUADCAST_MAX_PER_MINUTE,
  };
};

export interface DeadLetterWatchConfig {
  readonly deadLetterQueueUrl: string;
}

export const readDeadLetterWatchConfig = (env: NodeJS.ProcessEnv): DeadLetterWatchConfig => ({
  deadLetterQueueUrl: decodeEnv(t.type({ DEAD_LETTER_QUEUE_URL: NonEmpty }), env).DEAD_LETTER_QUEUE_URL,
});

export interface TestAlertConfig {
  readonly alertsQueueUrl: string;
  /** Named in the synthetic alert, so the incident says which deployment sent it. */
  readonly stage: string;
}

export const readTestAlertConfig = (env: NodeJS.ProcessEnv): TestAlertConfig => {
  const raw = decodeEnv(t.intersection([t.type({ ALERTS_QUEUE_URL: NonEmpty }), t.partial({ RELAY_STAGE: t.string })]), env);
  return { alertsQueueUrl: raw.ALERTS_QUEUE_URL, stage: raw.RELAY_STAGE?.trim() || 'local' };
};

export interface MetricsConfig {
  readonly namespace: string;
  readonly stage: string;
  /** LOG_FORMAT: `json` unless `human` is asked for (the local stack asks, on a terminal). */
  readonly logFormat: 'json' | 'human';
}

/** CloudWatch namespace and the `stage` dimension; both have local defaults so that `npm start` needs neither. */
export const readMetricsConfig = (env: NodeJS.ProcessEnv): MetricsConfig => {
  const raw = decodeEnv(
    t.partial({ METRICS_NAMESPACE: t.string, RELAY_STAGE: t.string, LOG_FORMAT: t.keyof({ json: null, human: null, '': null }) }),
    env,
  );
  return {
    namespace: raw.METRICS_NAMESPACE?.trim() || 'ThreatstackSquadcastRelay',
    stage: raw.RELAY_STAGE?.trim() || 'local',
    logFormat: raw.LOG_FORMAT === 'human' ? 'human' : 'json',
  };
};
