import { isLeft } from 'fp-ts/lib/Either';
import * as t from 'io-ts';
import { describeProblems } from '../alert/problems';
import { parseAllowlist, THREAT_STACK_SOURCE_IPS } from '../ingest/source-allowlist';
import type { SourceAllowlist } from '../ingest/source-allowlist';
import { Secret } from './secret';

/** A configuration error names the key and what was expected, never the value. Thrown at cold start. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

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
  new t.Type<t.TypeOf<C>, unknown, unknown>(codec.name, codec.is, (u, c) => (u === undefined || u === '' ? t.success(fallback) : codec.validate(u, c)), codec.encode);

/** Where a secret comes from: the environment (local use) or an SSM SecureString parameter (AWS). */
export type SecretSource = { readonly kind: 'value'; readonly secret: Secret } | { readonly kind: 'parameter'; readonly name: string };

const decodeEnv = <C extends t.Mixed>(codec: C, env: NodeJS.ProcessEnv): t.TypeOf<C> => {
  const result = codec.decode(env);
  if (isLeft(result)) throw new ConfigError(describeProblems(result.left));
  return result.right;
};

const secretSource = (env: NodeJS.ProcessEnv, valueKey: string): SecretSource => {
  const value = env[valueKey];
  const parameter = env[`${valueKey}_PARAMETER`];
  if (value !== undefined && value !== '') return { kind: 'value', secret: new Secret(value) };
  if (parameter !== undefined && parameter.trim() !== '') return { kind: 'parameter', name: parameter.trim() };
  throw new ConfigError([`${valueKey}: set it, or ${valueKey}_PARAMETER (an SSM SecureString parameter name)`]);
};

const Queues = t.type({ ALERTS_QUEUE_URL: NonEmpty, DEAD_LETTER_QUEUE_URL: NonEmpty });

export interface IngestConfig {
  readonly alertsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly token: SecretSource;
  readonly allowlist: SourceAllowlist;
}

export const readIngestConfig = (env: NodeJS.ProcessEnv): IngestConfig => {
  const raw = decodeEnv(t.intersection([Queues, t.partial({ ALLOWED_SOURCE_IPS: t.string })]), env);
  const entries = raw.ALLOWED_SOURCE_IPS?.trim() ? raw.ALLOWED_SOURCE_IPS.split(',').filter((entry) => entry.trim() !== '') : THREAT_STACK_SOURCE_IPS;
  const parsed = parseAllowlist(entries);
  if (!parsed.ok) throw new ConfigError([`ALLOWED_SOURCE_IPS: ${parsed.problem}`]);
  return {
    alertsQueueUrl: raw.ALERTS_QUEUE_URL,
    deadLetterQueueUrl: raw.DEAD_LETTER_QUEUE_URL,
    token: secretSource(env, 'WEBHOOK_TOKEN'),
    allowlist: parsed.allowlist,
  };
};

const DeliverEnv = t.intersection([
  Queues,
  t.type({
    ACTIVITY_TABLE_NAME: NonEmpty,
    SQUADCAST_TIMEOUT_MS: withDefault(intInRange(100, 60_000), 8_000),
    DELIVERY_CONCURRENCY: withDefault(intInRange(1, 100), 10),
    DELIVERY_LEASE_MS: withDefault(intInRange(1_000, 900_000), 45_000),
    DELIVERY_RETRY_BASE_SECONDS: withDefault(intInRange(0, 3_600), 20),
    DELIVERY_RETRY_MAX_SECONDS: withDefault(intInRange(1, 43_200), 900),
  }),
]);

export interface DeliverConfig {
  readonly alertsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly activityTableName: string;
  readonly squadcastUrl: SecretSource;
  readonly squadcastTimeoutMs: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
}

export const readDeliverConfig = (env: NodeJS.ProcessEnv): DeliverConfig => {
  const raw = decodeEnv(DeliverEnv, env);
  return {
    alertsQueueUrl: raw.ALERTS_QUEUE_URL,
    deadLetterQueueUrl: raw.DEAD_LETTER_QUEUE_URL,
    activityTableName: raw.ACTIVITY_TABLE_NAME,
    squadcastUrl: secretSource(env, 'SQUADCAST_WEBHOOK_URL'),
    squadcastTimeoutMs: raw.SQUADCAST_TIMEOUT_MS,
    concurrency: raw.DELIVERY_CONCURRENCY,
    leaseMs: raw.DELIVERY_LEASE_MS,
    retryBaseSeconds: raw.DELIVERY_RETRY_BASE_SECONDS,
    retryMaxSeconds: raw.DELIVERY_RETRY_MAX_SECONDS,
  };
};

export interface StatusConfig {
  readonly alertsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly activityTableName: string;
}

export const readStatusConfig = (env: NodeJS.ProcessEnv): StatusConfig => {
  const raw = decodeEnv(t.intersection([Queues, t.type({ ACTIVITY_TABLE_NAME: NonEmpty })]), env);
  return { alertsQueueUrl: raw.ALERTS_QUEUE_URL, deadLetterQueueUrl: raw.DEAD_LETTER_QUEUE_URL, activityTableName: raw.ACTIVITY_TABLE_NAME };
};
