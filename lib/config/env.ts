import * as t from 'io-ts';
import type { Severity } from '../alert/codec';
import { parseSeverities } from '../ingest/severity-filter';
import type { SourceAllowlist } from '../ingest/source-allowlist';
import { parseAllowlist, THREAT_STACK_SOURCE_IPS } from '../ingest/source-allowlist';
import type { SecretSource } from './env-codecs';
import {
  decodeEnv,
  NonEmpty,
  optionalSecretSource,
  Queues,
  SecretsEnv,
  SquadcastMaxPerMinute,
  secretSource,
  settingOrThrow,
} from './env-codecs';

/**
 * Each function's settings, read once at its start from the environment (serverless.yml, or the
 * local stack's defaults): one reader per function. deliver's is lib/delivery/deliver-config.ts,
 * beside the delivery rules it checks; the codecs they share are ./env-codecs.ts.
 */

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
