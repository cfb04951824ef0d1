import { ConfigError } from '../common/config-error';
import type { Logger } from '../common/logger';
import type { RelayMetrics } from '../common/metrics';
import type { Secret } from '../common/secret';
import type { SecretSource } from './env-codecs';
import type { ParameterRead, ParameterStore } from './ssm-parameter-store';

/** Asked once per invocation; cheap, since the store keeps each value for its max age. */
export type SecretReader = () => Promise<Secret>;
export type OptionalSecretReader = () => Promise<Secret | undefined>;

/**
 * What happens when a value cannot be read again (SSM failing or slow, or a bad value put in it):
 * the last good value is kept for `staleLimitMs` from the first failure, with a log line at every
 * failed attempt, so that an SSM blip never turns into 503s or dead letters. After that, a required
 * secret fails the invocation and an optional one counts as unset. A parameter that no longer
 * exists is not a failure to read: its last value is dropped at once (SecretParameterAbsent).
 */
export interface RefreshPolicy {
  readonly staleLimitMs: number;
  /** While failing, SSM is asked again at most this often (the last good value is used meanwhile). */
  readonly retryIntervalMs: number;
  /** A read that has a value to fall back on waits at most this long for SSM. */
  readonly deadlineMs: number;
}

export const DEFAULT_REFRESH_POLICY: RefreshPolicy = { staleLimitMs: 3_600_000, retryIntervalMs: 10_000, deadlineMs: 1_500 };

export interface SecretReaderOptions {
  /** The environment key, named in errors and logs: WEBHOOK_TOKEN, SQUADCAST_WEBHOOK_URL. */
  readonly key: string;
  readonly source: SecretSource;
  /** Created on first use only: a secret given as a value needs no SSM client. */
  readonly store: () => ParameterStore;
  /** Returns a problem (never quoting the value), or undefined. */
  readonly validate: (value: string) => string | undefined;
  readonly log: Logger;
  /** Counts each failed refresh (SecretReadFailed), which an alarm watches. */
  readonly metrics?: RelayMetrics;
  readonly policy?: RefreshPolicy;
  readonly now?: () => number;
}

/**
 * A required secret's parameter does not exist (deleted, or renamed). Not a failure to read: SSM
 * answered. The last value is not used: deleting the parameter is how an operator withdraws a
 * value, and it takes effect within the store's max age, counted and logged as an error.
 */
export class SecretParameterAbsent extends ConfigError {}

/** SSM did not answer within the policy's deadline; the read goes on, and fills the cache when it ends. */
export class SecretReadTimeout extends Error {
  override readonly name = 'SecretReadTimeout';
}

const withDeadline = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SecretReadTimeout(`no answer from SSM within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/** Names only: an SDK error's message is not logged (it is not ours to vet). */
const reasonOf = (error: unknown): string => {
  if (error instanceof ConfigError) return error.message;
  const cause = (error as { cause?: unknown })?.cause;
  const name = (error as Error)?.name ?? 'unknown';
  return cause instanceof Error ? `${name}: ${cause.name}` : name;
};

/** The value, or a ConfigError naming `where` (the key or the parameter) and the problem, never the value. */
const checkedValue = (where: string, secret: Secret, validate: (value: string) => string | undefined): Secret => {
  const problem = secret.reveal() === '' ? 'is empty' : validate(secret.reveal());
  if (problem !== undefined) throw new ConfigError([`${where}: ${problem}`]);
  return secret;
};

/** A required parameter's reader resolves a value or throws; an optional one's may resolve none. */
function parameterReader(options: SecretReaderOptions, name: string, optional: false): () => Promise<Secret>;
function parameterReader(options: SecretReaderOptions, name: string, optional: true): () => Promise<Secret | undefined>;
function parameterReader(options: SecretReaderOptions, name: string, optional: boolean): () => Promise<Secret | undefined> {
  const policy = options.policy ?? DEFAULT_REFRESH_POLICY;
  const now = options.now ?? Date.now;
  const where = `${options.key}_PARAMETER (${name})`;
  const check = (read: ParameterRead): Secret | undefined => {
    if (read.kind === 'absent') {
      if (optional) return undefined;
      throw new SecretParameterAbsent([`${where}: not found in SSM`]);
    }
    return checkedValue(where, read.value, options.validate);
  };

  let last: { readonly value: Secret | undefined } | undefined;
  let failure: { readonly since: number; readonly retryAt: number; readonly error: unknown } | undefined;
  const fallback = (at: number, failing: NonNullable<typeof failure>): Secret | undefined => {
    if (last !== undefined && at - failing.since <= policy.staleLimitMs) return last.value;
    if (optional) return undefined;
    throw failing.error;
  };

  return async () => {
    const at = now();
    // Without a value to fall back on, a required secret is read (and waited for) on every attempt.
    const canFallBack = last !== undefined || optional;
    if (failure !== undefined && canFallBack && at < failure.retryAt) return fallback(at, failure);
    try {
      const pending = options.store().read(name);
      const value = check(await (canFallBack ? withDeadline(pending, policy.deadlineMs) : pending));
      if (failure !== undefined) options.log.info('secret parameter read again', { secret: options.key, parameter: name });
      last = { value };
      failure = undefined;
      return value;
    } catch (error) {
      options.metrics?.count('secretStale');
      if (error instanceof SecretParameterAbsent) {
        // Gone is not stale: nothing is used, and every read asks the store again (which keeps the absence for its max age).
        last = undefined;
        failure = undefined;
        options.log.error('secret parameter not found; nothing is used until it is put back', { secret: options.key, parameter: name });
        throw error;
      }
      failure = { since: failure?.since ?? at, retryAt: at + policy.retryIntervalMs, error };
      if (!canFallBack) throw error;
      const value = fallback(at, failure);
      const fields = {
        secret: options.key,
        parameter: name,
        reason: reasonOf(error),
        using: value === undefined ? 'none' : 'the last value read',
        failingForSeconds: Math.round((at - failure.since) / 1000),
      };
      // A bad value is the operator's to fix; a read failure is usually SSM's and passes.
      if (error instanceof ConfigError) options.log.error('secret parameter refused; not used', fields);
      else options.log.warn('secret parameter could not be read', fields);
      return value;
    }
  };
}

/**
 * A secret read per invocation: from the environment as given (local use), or from SSM through the
 * store's cache. A value that fails `validate` is a ConfigError naming the key or the parameter,
 * never the value.
 */
export const secretReader = (options: SecretReaderOptions): SecretReader => {
  const { source } = options;
  if (source.kind === 'value') return async () => checkedValue(options.key, source.secret, options.validate);
  return parameterReader(options, source.name, false);
};

/**
 * An optional secret (the previous webhook token). It may only add to what is accepted, never take
 * away: a parameter that does not exist is none, and one that cannot be read or holds a bad value
 * is logged and counts as none, so the current token keeps working whatever happens to this one.
 */
export const optionalSecretReader = (
  options: Omit<SecretReaderOptions, 'source'> & { readonly source: SecretSource | undefined },
): OptionalSecretReader => {
  const { source } = options;
  if (source === undefined) return async () => undefined;
  if (source.kind === 'value') {
    const checked = checkedValue(options.key, source.secret, options.validate);
    return async () => checked;
  }
  return parameterReader({ ...options, source }, source.name, true);
};
