import * as t from 'io-ts';
import type { Checked } from '../common/checked';
import { decodeWith, valueOrThrow } from '../common/checked';
import { ConfigError } from '../common/config-error';
import { Secret } from '../common/secret';

/**
 * The plumbing every reader of lib/config/env.ts shares: the codecs of environment values, and
 * where a secret comes from. No setting's meaning lives here.
 */

export const NonEmpty = t.refinement(t.string, (s) => s.trim() !== '', 'non-empty string');

/** A whole number in [min, max], from the digits of an environment value. */
export const intInRange = (min: number, max: number) =>
  new t.Type<number, string, unknown>(
    `integer ${min}..${max}`,
    (u): u is number => typeof u === 'number',
    (u, c) => {
      const n = typeof u === 'string' && /^\d+$/.test(u.trim()) ? Number(u) : NaN;
      return Number.isSafeInteger(n) && n >= min && n <= max ? t.success(n) : t.failure(u, c);
    },
    String,
  );

/** `codec`, or `fallback` when the variable is unset or empty. */
export const withDefault = <C extends t.Mixed>(codec: C, fallback: t.TypeOf<C>) =>
  new t.Type<t.TypeOf<C>, unknown, unknown>(
    codec.name,
    codec.is,
    (u, c) => (u === undefined || u === '' ? t.success(fallback) : codec.validate(u, c)),
    codec.encode,
  );

/** The environment through `codec`, or a ConfigError naming every key that does not fit (never a value). */
export const decodeEnv = <C extends t.Mixed>(codec: C, env: NodeJS.ProcessEnv): t.TypeOf<C> =>
  valueOrThrow(decodeWith(codec, env), (problems) => new ConfigError(problems));

/** A parsed setting's value, or a ConfigError that names the key and the problem. */
export const settingOrThrow = <T>(key: string, checked: Checked<T>): T =>
  valueOrThrow(checked, (problems) => new ConfigError(problems.map((problem) => `${key}: ${problem}`)));

/** Where a secret comes from: the environment (local use) or an SSM SecureString parameter (AWS). */
export type SecretSource = { readonly kind: 'value'; readonly secret: Secret } | { readonly kind: 'parameter'; readonly name: string };

/** `<KEY>` (the value) or `<KEY>_PARAMETER` (an SSM parameter's name); one of them must be set. */
export const secretSource = (env: NodeJS.ProcessEnv, valueKey: string): SecretSource => {
  const value = env[valueKey];
  const parameter = env[`${valueKey}_PARAMETER`];
  if (value !== undefined && value !== '') return { kind: 'value', secret: new Secret(value) };
  if (parameter !== undefined && parameter.trim() !== '') return { kind: 'parameter', name: parameter.trim() };
  throw new ConfigError([`${valueKey}: set it, or ${valueKey}_PARAMETER (an SSM SecureString parameter name)`]);
};

/** A secret that may be left out: neither the value nor the parameter set means none. */
export const optionalSecretSource = (env: NodeJS.ProcessEnv, valueKey: string): SecretSource | undefined =>
  env[valueKey] || env[`${valueKey}_PARAMETER`]?.trim() ? secretSource(env, valueKey) : undefined;

// Settings more than one function reads.

/**
 * SECRETS_MAX_AGE_SECONDS: how long a secret read from SSM is reused before it is read again, so a
 * rotated value takes effect within that time, with no redeploy. 0 reads it on every invocation.
 */
export const SecretsEnv = t.type({ SECRETS_MAX_AGE_SECONDS: withDefault(intInRange(0, 3_600), 300) });

export const Queues = t.type({ ALERTS_QUEUE_URL: NonEmpty, DEAD_LETTER_QUEUE_URL: NonEmpty });

// Half the smallest paid Squadcast plan (Pro: 300 a minute), leaving room for the account's other sources.
export const SquadcastMaxPerMinute = withDefault(intInRange(1, 1_000_000), 150);
