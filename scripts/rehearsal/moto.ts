import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * moto's server (`pip install moto[server]`): AWS's APIs, CloudFormation included, answered in memory
 * on 127.0.0.1, for a rehearsal that needs no AWS account. One process serves every service.
 * http://docs.getmoto.org/en/latest/docs/server_mode.html
 */
export interface Moto {
  readonly endpoint: string;
  readonly version: string;
  stop(): Promise<void>;
}

export class MotoMissing extends Error {
  override readonly name = 'MotoMissing';
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

export const startMoto = async (): Promise<Moto> => {
  const probe = spawnSync('moto_server', ['--help'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new MotoMissing('moto_server is not installed: pip install "moto[server]==5.2.1" (the rehearsal runs AWS on 127.0.0.1 with it)');
  }
  const asked = spawnSync('python3', ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' });
  const version = asked.status === 0 ? asked.stdout.trim() : 'unknown';
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = `${log}${chunk.toString('utf8')}`.slice(-20_000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`moto_server exited at start:\n${log}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (response.ok) return { endpoint, version, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${log}`);
};
