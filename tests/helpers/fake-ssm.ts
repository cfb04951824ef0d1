import type { SendSpy } from './load-handler';

type SsmModule = typeof import('@aws-sdk/client-ssm');

/**
 * SSM Parameter Store at the command level, for code that reads through Powertools Parameters:
 * GetParameter answers from a map the test changes as an operator would (put, overwrite, delete),
 * or fails while `failWith` is set. `ssm` must be the module the code under test loaded (a handler
 * loaded in its own registry has its own `ParameterNotFound` class, which Powertools matches).
 */
export const fakeSsm = (spy: SendSpy, ssm: SsmModule) => {
  const parameters = new Map<string, string>();
  const reads: Array<{ readonly name: string; readonly decrypted: boolean }> = [];
  let failure: (() => Error) | undefined;
  spy.mockImplementation(async (command) => {
    const { constructor: type, input } = command as { constructor: { name: string }; input: { Name?: string; WithDecryption?: boolean } };
    if (type.name !== 'GetParameterCommand') throw new Error(`unexpected SSM command ${type.name}`);
    const name = input.Name ?? '';
    reads.push({ name, decrypted: input.WithDecryption === true });
    if (failure !== undefined) throw failure();
    const value = parameters.get(name);
    if (value === undefined) throw new ssm.ParameterNotFound({ message: `parameter not found (fake)`, $metadata: { httpStatusCode: 400 } });
    return { Parameter: { Name: name, Type: 'SecureString', Value: value, Version: 1 }, $metadata: {} };
  });
  return {
    put: (name: string, value: string): void => void parameters.set(name, value),
    delete: (name: string): void => void parameters.delete(name),
    /** Every GetParameter from now on fails with this error, until `recover()`. */
    failWith: (error: () => Error): void => {
      failure = error;
    },
    recover: (): void => {
      failure = undefined;
    },
    /** The names read so far, in order. */
    reads: (): string[] => reads.map((read) => read.name),
    /** True when every read asked for decryption (SecureString). */
    allDecrypted: (): boolean => reads.every((read) => read.decrypted),
  };
};

export type FakeSsm = ReturnType<typeof fakeSsm>;

/** `fakeSsm` on every SSMClient of the module given (restore with jest.restoreAllMocks). */
export const fakeSsmClients = (ssm: SsmModule): FakeSsm =>
  fakeSsm(jest.spyOn(ssm.SSMClient.prototype as unknown as { send: (command: unknown) => Promise<unknown> }, 'send'), ssm);

/** An SDK-shaped error (as the SSM client throws it), e.g. ThrottlingException. */
export const anSsmError = (name: string): Error =>
  Object.assign(new Error(`${name} (fake)`), { name, $fault: 'server', $metadata: { httpStatusCode: 500 } });

/**
 * A wall clock the test moves: only `Date` is faked (Powertools' cache and the code's clocks read
 * it); timers, promises and I/O run for real. Call `restore()` after the test.
 */
export const fakeWallClock = (startMs: number) => {
  jest.useFakeTimers({
    now: startMs,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
  return {
    /** Moves the clock forward by `seconds`. */
    advance: (seconds: number): void => jest.setSystemTime(Date.now() + seconds * 1000),
    /** Seconds since the start. */
    elapsed: (): number => (Date.now() - startMs) / 1000,
    restore: (): void => void jest.useRealTimers(),
  };
};
