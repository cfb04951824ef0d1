import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { FakeSquadcast } from '../../devkit/fake-squadcast';
import { startFakeSquadcast } from '../../devkit/fake-squadcast';
import type { EmulatorEndpoints } from './emulators';
import { emulatorEnv } from './emulators';

const ROOT = join(__dirname, '..', '..');

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /** Resolves with the exit code (null when a signal ended it) once the process has exited. */
  exited(): Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs a TypeScript entry as `node --import tsx` in ONE process (the tsx CLI would run it in a
 * child process): a signal sent in a test reaches the program itself.
 */
export const spawnTsx = (script: string, env: NodeJS.ProcessEnv, args: readonly string[] = []): RunningProcess => {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited: () => exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
};

const waitFor = async (
  what: string,
  check: () => string | undefined | Promise<string | undefined>,
  process: RunningProcess,
  timeoutMs = 30_000,
): Promise<string> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await check();
    if (found !== undefined) return found;
    if (process.child.exitCode !== null) throw new Error(`${what}: process exited early:\n${process.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Not left running behind a failed test (the jest worker would be force-exited).
  process.child.kill('SIGKILL');
  throw new Error(`${what}: timed out after ${timeoutMs} ms:\n${process.output()}`);
};

export interface EmulatorProcess extends RunningProcess, EmulatorEndpoints {}

/** The SQS and DynamoDB emulators in their own process (fauxqs is ESM-only; jest runs CommonJS). */
export const startEmulatorProcess = async (): Promise<EmulatorProcess> => {
  const process = spawnTsx('local/emulators.ts', {});
  const line = await waitFor(
    'emulators',
    () =>
      process
        .output()
        .split('\n')
        .find((l) => l.startsWith('{"sqsEndpoint"')),
    process,
    90_000,
  );
  const endpoints = JSON.parse(line) as Pick<EmulatorProcess, 'sqsEndpoint' | 'dynamodbEndpoint' | 'credentials'>;
  return { ...process, ...endpoints };
};

/** The environment that points a relay process at an emulator process and a (fake) Squadcast. */
export const relayEnv = (
  emulators: EmulatorEndpoints,
  relay: { token: string; squadcastUrl: string; prefix: string },
): NodeJS.ProcessEnv => ({
  ...emulatorEnv(emulators),
  WEBHOOK_TOKEN: relay.token,
  SQUADCAST_WEBHOOK_URL: relay.squadcastUrl,
  LOCAL_RESOURCE_PREFIX: relay.prefix,
});

export interface RelayProcess extends RunningProcess {
  readonly baseUrl: string;
}

/**
 * `npm start`'s entry point, configured by `env`; resolves once the webhook URL is printed.
 * Embedded emulators keep their state in memory (RELAY_DATA_DIR empty) unless `env` names a
 * data directory: a test never touches the project's `./.relay-data`.
 */
export const startRelayProcess = async (env: NodeJS.ProcessEnv, args: readonly string[] = []): Promise<RelayProcess> => {
  // Tests read the functions' structured lines: LOG_FORMAT=json unless a test asks for the human ones.
  const process = spawnTsx('local/main.ts', { PORT: '0', RELAY_DATA_DIR: '', LOG_FORMAT: 'json', ...env }, args);
  // Up to 90 s: on a loaded machine (the whole suite beside it) a start has taken over 30 s.
  const baseUrl = await waitFor(
    'relay',
    () => /webhook \(POST\)\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(process.output())?.[1],
    process,
    90_000,
  );
  return { ...process, baseUrl };
};

/** Polls `check` until it returns true. */
/** Runs an operator command (`scripts/<script>.ts`) on the project's Node, as `npm run <script>` would, and collects what it printed. */
export const runScript = (script: string, args: readonly string[]): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('scripts', `${script}.ts`), ...args], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', (code) => resolve({ code, output }));
  });

export const eventually = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for: ${what}`);
};

/** A relay process on emulator processes, with a fake Squadcast: what the integration tests start. */
export interface RelayOnFakes {
  readonly emulators: EmulatorProcess;
  readonly squadcast: FakeSquadcast;
  readonly relay: RelayProcess;
}

/** Starts the emulators and the fake Squadcast together, then `npm start` on them with `env` over the usual settings. */
export const startRelayOnFakes = async (relay: { token: string; prefix: string }, env: NodeJS.ProcessEnv = {}): Promise<RelayOnFakes> => {
  const [emulators, squadcast] = await Promise.all([startEmulatorProcess(), startFakeSquadcast()]);
  const started = await startRelayProcess({ ...relayEnv(emulators, { ...relay, squadcastUrl: squadcast.url }), ...env });
  return { emulators, squadcast, relay: started };
};
