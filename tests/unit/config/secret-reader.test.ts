import { ConfigError } from '../../../lib/common/config-error';
import { Secret } from '../../../lib/common/secret';
import type { SecretSource } from '../../../lib/config/env-codecs';
import type { RefreshPolicy, SecretReaderOptions } from '../../../lib/config/secret-reader';
import {
  DEFAULT_REFRESH_POLICY,
  optionalSecretReader,
  SecretParameterAbsent,
  SecretReadTimeout,
  secretReader,
} from '../../../lib/config/secret-reader';
import type { ParameterRead, ParameterStore } from '../../../lib/config/ssm-parameter-store';
import { SENTINEL } from '../../helpers/factories';
import { anSsmError } from '../../helpers/fake-ssm';
import { CapturingLogger, noMetrics } from '../../helpers/fakes';

const NAME = '/relay/unit/webhook-token';
const PARAMETER: SecretSource = { kind: 'parameter', name: NAME };
const GOOD = 'good-token-0123456789';
const NEWER = 'newer-token-0123456789';

/** A store the test scripts: each read answers the current `next` (a value, absent, an error or a hang). */
class ScriptedStore implements ParameterStore {
  next: () => Promise<ParameterRead> = async () => ({ kind: 'found', value: new Secret(GOOD) });
  reads = 0;
  read(): Promise<ParameterRead> {
    this.reads++;
    return this.next();
  }
  answer(value: string): void {
    this.next = async () => ({ kind: 'found', value: new Secret(value) });
  }
  absent(): void {
    this.next = async () => ({ kind: 'absent' });
  }
  fail(name = 'ThrottlingException'): void {
    this.next = async () =>
      Promise.reject(Object.assign(new Error('wrapped (fake)'), { name: 'GetParameterError', cause: anSsmError(name) }));
  }
  hang(): void {
    this.next = () => new Promise<never>(() => undefined);
  }
}

/** Tokens must be at least 16 characters here, as the webhook token's rule says. */
const validate = (value: string): string | undefined => (value.length >= 16 ? undefined : 'is too short');

const setup = (source: SecretSource = PARAMETER, policy: RefreshPolicy = DEFAULT_REFRESH_POLICY) => {
  const store = new ScriptedStore();
  const log = new CapturingLogger();
  let nowMs = 0;
  const storeFactory = jest.fn(() => store);
  const options: SecretReaderOptions = { key: 'WEBHOOK_TOKEN', source, store: storeFactory, validate, log, policy, now: () => nowMs };
  return {
    store,
    log,
    storeFactory,
    options,
    advance: (seconds: number) => {
      nowMs += seconds * 1000;
    },
  };
};

const revealed = async (read: () => Promise<Secret | undefined>): Promise<string | undefined> => (await read())?.reveal();
const rejection = async (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => new Error('resolved'),
    (error: unknown) => error as Error,
  );

describe('secretReader: a value from the environment (local use)', () => {
  it('returns it without creating the store', async () => {
    const { options, storeFactory } = setup({ kind: 'value', secret: new Secret(GOOD) });
    expect(await revealed(secretReader(options))).toBe(GOOD);
    expect(storeFactory).not.toHaveBeenCalled();
  });

  it.each([
    ['a bad value', SENTINEL.slice(0, 8), 'invalid configuration: WEBHOOK_TOKEN: is too short'],
    ['an empty value', '', 'invalid configuration: WEBHOOK_TOKEN: is empty'],
  ])('refuses %s with a ConfigError naming the key, at every read', async (_name, value, message) => {
    const { options } = setup({ kind: 'value', secret: new Secret(value) });
    const read = secretReader(options);
    for (const attempt of [1, 2]) {
      const error = await rejection(read());
      expect([attempt, error]).toEqual([attempt, expect.any(ConfigError)]);
      expect(error.message).toBe(message);
      if (value !== '') expect(error.message).not.toContain(value);
    }
  });
});

describe('secretReader: a parameter', () => {
  it('reads it through the store at every call (the store caches), validated', async () => {
    const { options, store } = setup();
    const read = secretReader(options);
    expect(await revealed(read)).toBe(GOOD);
    store.answer(NEWER);
    expect(await revealed(read)).toBe(NEWER);
    expect(store.reads).toBe(2);
  });

  it.each<[string, (store: ScriptedStore) => void, string]>([
    ['a bad value', (store) => store.answer(SENTINEL.slice(0, 8)), 'WEBHOOK_TOKEN_PARAMETER (/relay/unit/webhook-token): is too short'],
    ['an empty value', (store) => store.answer(''), 'WEBHOOK_TOKEN_PARAMETER (/relay/unit/webhook-token): is empty'],
    ['a missing parameter', (store) => store.absent(), 'WEBHOOK_TOKEN_PARAMETER (/relay/unit/webhook-token): not found in SSM'],
  ])('refuses %s on the first read with a ConfigError naming the parameter, never the value', async (_name, script, problem) => {
    const { options, store } = setup();
    script(store);
    const error = await rejection(secretReader(options)());
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`invalid configuration: ${problem}`);
    expect(error.message).not.toContain(SENTINEL.slice(0, 8));
  });

  it('with no value read yet, lets a failure reject, and tries again at the next call', async () => {
    const { options, store } = setup();
    const read = secretReader(options);
    store.fail();
    expect((await rejection(read())).name).toBe('GetParameterError');
    store.answer(GOOD);
    expect(await revealed(read)).toBe(GOOD);
    expect(store.reads).toBe(2);
  });

  it('with no value read yet, waits for a slow SSM rather than fail the cold start', async () => {
    const { options, store } = setup(PARAMETER, { ...DEFAULT_REFRESH_POLICY, deadlineMs: 5 });
    store.next = () => new Promise((resolve) => setTimeout(() => resolve({ kind: 'found', value: new Secret(GOOD) }), 40));
    expect(await revealed(secretReader(options))).toBe(GOOD);
  });
});

describe('secretReader: when a refresh fails, the last good value is kept for a bounded time', () => {
  it('serves the last good value through an SSM outage, warns without the value, asks SSM at most every retry interval', async () => {
    const { options, store, log, advance } = setup();
    const read = secretReader(options);
    expect(await revealed(read)).toBe(GOOD);
    store.fail('ThrottlingException');
    advance(300);
    expect(await revealed(read)).toBe(GOOD);
    expect(log.entries).toEqual([
      {
        level: 'warn',
        message: 'secret parameter could not be read',
        fields: {
          secret: 'WEBHOOK_TOKEN',
          parameter: NAME,
          reason: 'GetParameterError: ThrottlingException',
          using: 'the last value read',
          failingForSeconds: 0,
        },
      },
    ]);
    const readsAfterFirstFailure = store.reads;
    advance(9);
    expect(await revealed(read)).toBe(GOOD);
    expect(store.reads).toBe(readsAfterFirstFailure);
    advance(1);
    expect(await revealed(read)).toBe(GOOD);
    expect(store.reads).toBe(readsAfterFirstFailure + 1);
    expect(log.at('warn').map((entry) => entry.fields.failingForSeconds)).toEqual([0, 10]);
    expect(log.text()).not.toContain(GOOD);
  });

  it('a parameter deleted after a good read is not an outage: no stale value, an error line and a count at every read', async () => {
    const { options, store, log } = setup();
    const counted: string[] = [];
    const read = secretReader({ ...options, metrics: { ...noMetrics, count: (metric) => void counted.push(metric) } });
    expect(await revealed(read)).toBe(GOOD);
    store.absent();
    for (const _ of [1, 2]) {
      const error = await rejection(read());
      expect(error).toBeInstanceOf(SecretParameterAbsent);
      expect(error.message).toBe('invalid configuration: WEBHOOK_TOKEN_PARAMETER (/relay/unit/webhook-token): not found in SSM');
    }
    // Each read asks the store (which keeps an absence for its max age, as it keeps a value).
    expect(store.reads).toBe(3);
    expect(counted).toEqual(['secretStale', 'secretStale']);
    expect(log.at('error').map((entry) => entry.message)).toEqual([
      'secret parameter not found; nothing is used until it is put back',
      'secret parameter not found; nothing is used until it is put back',
    ]);
    store.answer(NEWER);
    expect(await revealed(read)).toBe(NEWER);
  });

  it('counts every failed refresh (SecretReadFailed, which an alarm watches), and nothing while SSM answers', async () => {
    const { options, store, advance } = setup();
    const counted: string[] = [];
    const read = secretReader({ ...options, metrics: { ...noMetrics, count: (metric) => void counted.push(metric) } });
    await read();
    advance(300);
    await read();
    expect(counted).toEqual([]);
    store.fail('ThrottlingException');
    advance(300);
    await read();
    advance(10);
    await read();
    expect(counted).toEqual(['secretStale', 'secretStale']);
    store.answer(NEWER);
    advance(10);
    expect(await revealed(read)).toBe(NEWER);
    expect(counted).toHaveLength(2);
  });

  it('uses the new value as soon as SSM answers again, and says so', async () => {
    const { options, store, log, advance } = setup();
    const read = secretReader(options);
    await read();
    store.fail();
    advance(300);
    await read();
    store.answer(NEWER);
    advance(10);
    expect(await revealed(read)).toBe(NEWER);
    expect(log.find('secret parameter read again')).toEqual({
      level: 'info',
      message: 'secret parameter read again',
      fields: { secret: 'WEBHOOK_TOKEN', parameter: NAME },
    });
  });

  it('fails a required secret once SSM has failed for longer than the stale limit (1 hour by default)', async () => {
    const { options, store, advance } = setup();
    const read = secretReader(options);
    await read();
    store.fail();
    advance(300);
    expect(await revealed(read)).toBe(GOOD);
    advance(3_600);
    expect(await revealed(read)).toBe(GOOD);
    advance(10);
    expect((await rejection(read())).name).toBe('GetParameterError');
    // Still failing within the retry interval: the same answer, without asking SSM.
    const reads = store.reads;
    expect((await rejection(read())).name).toBe('GetParameterError');
    expect(store.reads).toBe(reads);
    store.answer(GOOD);
    advance(10);
    expect(await revealed(read)).toBe(GOOD);
  });

  it('keeps the last good value when SSM starts answering a bad one, and logs an error naming the parameter', async () => {
    const { options, store, log, advance } = setup();
    const read = secretReader(options);
    await read();
    store.answer(SENTINEL.slice(0, 8));
    advance(300);
    expect(await revealed(read)).toBe(GOOD);
    expect(log.at('error')).toEqual([
      {
        level: 'error',
        message: 'secret parameter refused; not used',
        fields: expect.objectContaining({
          parameter: NAME,
          reason: `invalid configuration: WEBHOOK_TOKEN_PARAMETER (${NAME}): is too short`,
          using: 'the last value read',
        }),
      },
    ]);
    expect(log.text()).not.toContain(SENTINEL.slice(0, 8));
  });

  it('waits at most the deadline for a hanging SSM when it has a value to fall back on', async () => {
    const { options, store, log, advance } = setup(PARAMETER, { ...DEFAULT_REFRESH_POLICY, deadlineMs: 20 });
    const read = secretReader(options);
    await read();
    store.hang();
    advance(300);
    // Without the deadline this read would never end (the test would time out).
    expect(await revealed(read)).toBe(GOOD);
    expect(log.at('warn')[0]?.fields.reason).toBe(new SecretReadTimeout('').name);
  });
});

describe('optionalSecretReader (the previous webhook token)', () => {
  const optional = (source: SecretSource | undefined, setupFor = setup()) => ({
    ...setupFor,
    read: optionalSecretReader({ ...setupFor.options, key: 'WEBHOOK_TOKEN_PREVIOUS', source }),
  });

  it('is none when not configured, without creating the store', async () => {
    const { read, storeFactory } = optional(undefined);
    expect(await read()).toBeUndefined();
    expect(storeFactory).not.toHaveBeenCalled();
  });

  it('is none while the parameter does not exist (not an error), and the value once it does', async () => {
    const { read, store, log } = optional(PARAMETER);
    store.absent();
    expect(await read()).toBeUndefined();
    store.answer(GOOD);
    expect(await revealed(read)).toBe(GOOD);
    store.absent();
    expect(await read()).toBeUndefined();
    expect(log.entries).toEqual([]);
  });

  it('never fails: an unreadable or bad parameter counts as none (logged), so the current token keeps working', async () => {
    const { read, store, log, advance } = optional(PARAMETER);
    store.fail();
    expect(await read()).toBeUndefined();
    expect(log.at('warn')[0]?.fields).toEqual(expect.objectContaining({ secret: 'WEBHOOK_TOKEN_PREVIOUS', using: 'none' }));
    advance(10);
    store.answer(SENTINEL.slice(0, 8));
    expect(await read()).toBeUndefined();
    expect(log.at('error')[0]?.fields.reason).toBe(`invalid configuration: WEBHOOK_TOKEN_PREVIOUS_PARAMETER (${NAME}): is too short`);
    expect(log.text()).not.toContain(SENTINEL.slice(0, 8));
  });

  it('keeps its last good value through an outage, then counts as none past the stale limit', async () => {
    const { read, store, advance } = optional(PARAMETER);
    expect(await revealed(read)).toBe(GOOD);
    store.fail();
    advance(300);
    expect(await revealed(read)).toBe(GOOD);
    advance(3_601);
    expect(await read()).toBeUndefined();
  });

  it('checks a value from the environment at once: a bad one fails the cold start, naming the key', () => {
    const { options } = setup();
    expect(() =>
      optionalSecretReader({ ...options, key: 'WEBHOOK_TOKEN_PREVIOUS', source: { kind: 'value', secret: new Secret('short') } }),
    ).toThrow('invalid configuration: WEBHOOK_TOKEN_PREVIOUS: is too short');
  });
});
