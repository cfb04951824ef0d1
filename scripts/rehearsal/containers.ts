import type { ChildProcess } from 'node:child_process';
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Lambda containers for the packaged bundles: each one a Node process (scripts/rehearsal/container.cjs)
 * that loads a bundle as `serverless package` built it, with the environment the stack gave the
 * function, and answers invocations over IPC. Everything it prints (log and metric lines) is kept.
 */
export interface Container {
  readonly functionName: string;
  invoke<R = unknown>(
    event: unknown,
  ): Promise<{ readonly result?: R; readonly error?: { readonly name: string; readonly message: string } }>;
  /** Everything printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Unzips a function's bundle with Python's zipfile (the rehearsal needs Python for moto anyway). */
export const unzipBundle = (zipPath: string, into: string): void => {
  mkdirSync(into, { recursive: true });
  const run = spawnSync('python3', ['-m', 'zipfile', '-e', zipPath, into], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`could not unzip ${zipPath}: ${run.stderr}`);
};

export const startContainer = async (bundlePath: string, functionName: string, env: NodeJS.ProcessEnv): Promise<Container> => {
  const child: ChildProcess = fork(join(__dirname, 'container.cjs'), [bundlePath, functionName], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const pending = new Map<number, (answer: { result?: unknown; error?: { name: string; message: string } }) => void>();
  let ready: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.on('message', (message: { ready?: boolean; id?: number; result?: unknown; error?: { name: string; message: string } }) => {
    if (message.ready) return ready();
    const settle = pending.get(message.id ?? -1);
    pending.delete(message.id ?? -1);
    settle?.(message);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    started,
    exited.then(() => {
      throw new Error(`${functionName}'s bundle did not load:\n${output}`);
    }),
  ]);
  let next = 0;
  return {
    functionName,
    invoke: <R>(event: unknown) =>
      new Promise<{ result?: R; error?: { name: string; message: string } }>((resolve, reject) => {
        const id = next++;
        pending.set(id, resolve as (answer: unknown) => void);
        child.send({ id, event }, (error) => error && reject(error));
        void exited.then(() => reject(new Error(`${functionName} exited during an invocation:\n${output}`)));
      }),
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
};
