type SsmModule = typeof import('@aws-sdk/client-ssm');

type Send = (command: unknown) => Promise<unknown>;

/**
 * SSM Parameter Store at the command level, for code that reads through Powertools Parameters:
 * GetParameter answers from parameters the test changes as an operator would (put, overwrite,
 * delete), or fails while `failWith` is set. One service can answer several containers (handlers
 * loaded in their own registries), as one SSM answers every Lambda container.
 */
export class FakeSsmService {
  readonly #parameters = new Map<string, string>();
  readonly #reads: Array<{ readonly client: string; readonly name: string; readonly decrypted: boolean }> = [];
  #failure: (() => Error) | undefined;

  /**
   * Answers every GetParameter sent through `spy`. `ssm` must be the module the code under test
   * loaded: a handler loaded in its own registry has its own `ParameterNotFound`, which Powertools matches.
   */
  serve(spy: { mockImplementation(send: Send): unknown }, ssm: SsmModule, client = 'default'): this {
    spy.mockImplementation(async (command) => {
      const { constructor: type, input } = command as { constructor: { name: string }; input: { Name?: string; WithDecryption?: boolean } };
      if (type.name !== 'GetParameterCommand') throw new Error(`unexpected SSM command ${type.name}`);
      const name = input.Name ?? '';
      this.#reads.push({ client, name, decrypted: input.WithDecryption === true });
      if (this.#failure !== undefined) throw this.#failure();
      const value = this.#parameters.get(name);
      if (value === undefined)
        throw new ssm.ParameterNotFound({ message: 'parameter not found (fake)', $metadata: { httpStatusCode: 400 } });
      return { Parameter: { Name: name, Type: 'SecureString', Value: value, Version: 1 }, $metadata: {} };
    });
    return this;
  }

  put(name: string, value: string): void {
    this.#parameters.set(name, value);
  }

  delete(name: string): void {
    this.#parameters.delete(name);
  }

  /** Every GetParameter from now on fails with this error, until `recover()`. */
  failWith(error: () => Error): void {
    this.#failure = error;
  }

  recover(): void {
    this.#failure = undefined;
  }

  /** The names read so far, in order; only those of one client when named. */
  reads(client?: string): string[] {
    return this.#reads.filter((read) => client === undefined || read.client === client).map((read) => read.name);
  }

  /** True when every read asked for decryption (SecureString). */
  allDecrypted(): boolean {
    return this.#reads.every((read) => read.decrypted);
  }
}

/** A FakeSsmService answering every SSMClient of the module given (restore with jest.restoreAllMocks). */
export const fakeSsmClients = (ssm: SsmModule): FakeSsmService =>
  new FakeSsmService().serve(jest.spyOn(ssm.SSMClient.prototype as unknown as { send: Send }, 'send'), ssm);

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
