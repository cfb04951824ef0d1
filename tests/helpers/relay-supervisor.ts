import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Runs `local/main.ts` (the relay as `npm start` runs it) and can SIGKILL it mid-batch and start
 * it again on the same emulators. The relay runs as `node --import tsx` in ONE process: the tsx
 * CLI would put it in a child process, which a SIGKILL of the CLI leaves running.
 */
export interface RelaySupervisor {
  /** The current incarnation's base URL (the port changes on every restart). */
  baseUrl(): string;
  /** Everything every incarnation printed, stdout and stderr. */
  output(): string;
  readonly kills: Array<{ readonly at: number; readonly reason: string }>;
  /**
   * SIGKILL now (synchronous, so a test hook can kill between two writes), then start again.
   * With `signal` SIGTERM or SIGINT, the relay stops gracefully first; the restart waits for it to exit.
   */
  killAndRestart(reason: string, signal?: NodeJS.Signals): Promise<void>;
  /** Resolves when no restart is in progress. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

interface Incarnation {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  baseUrl?: string;
}

/** Up to 90 s per start: on a loaded machine (the whole suite and a busy core beside it) a start has taken over 30 s. */
export const startRelaySupervisor = async (env: NodeJS.ProcessEnv, startupTimeoutMs = 90_000): Promise<RelaySupervisor> => {
  let output = '';
  const kills: Array<{ at: number; reason: string }> = [];
  let current: Incarnation;
  let restarting: Promise<void> = Promise.resolve();
  let stopped = false;

  const launch = async (): Promise<Incarnation> => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
      cwd: ROOT,
      // In memory unless `env` names a data directory (RELAY_DATA_DIR).
      env: { ...process.env, PORT: '0', RELAY_DATA_DIR: '', LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const incarnation: Incarnation = { child, exited };
    let own = '';
    const collect = (chunk: Buffer): void => {
      own += chunk.toString('utf8');
      output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + startupTimeoutMs;
    while (incarnation.baseUrl === undefined) {
      const found = /webhook \(POST\)\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(own)?.[1];
      if (found !== undefined) incarnation.baseUrl = found;
      else if (child.exitCode !== null || child.signalCode !== null) throw new Error(`relay exited early:\n${own}`);
      else if (Date.now() > deadline) {
        // Not left running behind a failed test (the jest worker would be force-exited).
        child.kill('SIGKILL');
        throw new Error(`relay did not start within ${startupTimeoutMs} ms:\n${own}`);
      } else await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return incarnation;
  };

  current = await launch();
  return {
    baseUrl: () => current.baseUrl ?? '',
    output: () => output,
    kills,
    killAndRestart: (reason, signal = 'SIGKILL') => {
      const victim = current;
      if (stopped || victim.child.exitCode !== null || victim.child.signalCode !== null) return restarting;
      victim.child.kill(signal);
      kills.push({ at: Date.now(), reason });
      restarting = restarting.then(async () => {
        await victim.exited;
        if (!stopped) current = await launch();
      });
      return restarting;
    },
    settled: () => restarting,
    stop: async () => {
      stopped = true;
      await restarting.catch(() => undefined);
      if (current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGTERM');
      await current.exited;
    },
  };
};
