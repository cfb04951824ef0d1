import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { readCredentialsFile } from '../../local/credentials-file';
import { DataDirUnusable, lockDataDir } from '../../local/data-dir';
import type { LocalQueues } from '../../local/local-queues';
import { eventually, spawnTsx, startRelayProcess } from '../helpers/local-processes';
import { tempDirs } from '../helpers/temp-dirs';

/**
 * `npm start` as a local user, another local process and a careless setting meet it: the emulators'
 * credentials are never served, the data directory is its owner's alone, an unusable directory or a
 * busy port stops the start at once and leaves nothing behind, and a stop lets deliveries to the
 * built-in inbox finish.
 */
const freshDir = tempDirs('relay-local-keys-');

const modesUnder = (dir: string): Array<[string, number]> => [
  [dir, statSync(dir).mode & 0o777],
  ...readdirSync(dir, { recursive: true, withFileTypes: true }).map((entry): [string, number] => {
    const { parentPath, path: parent } = entry as unknown as { parentPath?: string; path?: string };
    const path = join(parentPath ?? parent ?? dir, entry.name);
    return [path, statSync(path).mode & 0o777];
  }),
];

describe('the local stack keeps its keys', () => {
  it('serves where the credentials are, never what they are; its data directory and every file in it are 0700 and 0600', async () => {
    const dir = join(freshDir(), 'data');
    // As an earlier version left it: open to every user of the machine.
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'incidents.jsonl'), '', { mode: 0o644 });
    chmodSync(join(dir, 'incidents.jsonl'), 0o644);
    const relay = await startRelayProcess({ RELAY_DATA_DIR: dir });
    try {
      const answer = await fetch(`${relay.baseUrl}/local/queues`);
      const text = await answer.text();
      const local = JSON.parse(text) as LocalQueues;
      expect(local.credentialsFile).toBe(join(dir, 'local-credentials.json'));
      const credentials = readCredentialsFile(local.credentialsFile ?? '');
      expect(text).not.toContain(credentials.accessKeyId);
      expect(text).not.toContain(credentials.secretAccessKey);
      const modes = modesUnder(dir);
      expect(modes.filter(([path, mode]) => mode !== (statSync(path).isDirectory() ? 0o700 : 0o600))).toEqual([]);
      expect(modes.length).toBeGreaterThan(3);
      // The banner's hints name the port it runs on.
      const port = new URL(relay.baseUrl).port;
      expect(relay.output()).toContain(`try: npm run send-sample -- --port ${port}    npm run test-alert -- --local --port ${port}`);
      expect(relay.output()).toContain('rate ceiling     150 incidents a minute (SQUADCAST_MAX_PER_MINUTE)');
    } finally {
      await relay.stop();
    }
    // The credentials go with the start that drew them.
    expect(existsSync(join(dir, 'local-credentials.json'))).toBe(false);
  }, 120_000);

  it('a stop lets deliveries to the built-in inbox finish: no "delivery failed" line', async () => {
    const relay = await startRelayProcess({ WEBHOOK_TOKEN: 'local-keys-token-0123456789' });
    try {
      const alerts = Array.from({ length: 30 }, (_, i) => ({ id: `stop-${i}`, title: `stop ${i}`, severity: 3, created_at: Date.now() }));
      const posted = await fetch(`${relay.baseUrl}/threatstack/local-keys-token-0123456789`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ alerts }),
      });
      expect(posted.status).toBe(200);
      await eventually('a first delivery', () => relay.output().includes('incident delivered'));
      relay.child.kill('SIGINT');
      expect(await relay.exited()).toBe(0);
      expect(relay.output()).not.toContain('delivery failed');
    } finally {
      await relay.stop();
    }
  }, 120_000);
});

describe('a start that cannot go on stops at once and leaves nothing behind', () => {
  it('the finding: RELAY_DATA_DIR=/proc/nope fails, naming the setting, the path and the problem (it looped before)', () => {
    const started = performance.now();
    expect(() => lockDataDir('/proc/nope')).toThrow(DataDirUnusable);
    expect(() => lockDataDir('/proc/nope')).toThrow(
      'RELAY_DATA_DIR (/proc/nope): no directory can be made there (its parent takes none, as under /proc).',
    );
    console.log(`lockDataDir('/proc/nope') failed after ${(performance.now() - started).toFixed(1)} ms (twice)`);
  });

  it('npm start with RELAY_DATA_DIR=/proc/nope exits 1 with that message', async () => {
    const relay = spawnTsx('local/main.ts', { PORT: '0', RELAY_DATA_DIR: '/proc/nope' });
    expect(await relay.exited()).toBe(1);
    expect(relay.output()).toContain('relay failed to start: RELAY_DATA_DIR (/proc/nope): no directory can be made there');
  }, 60_000);

  it('a port in use refuses the start before any data directory is made', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as { port: number };
    const dir = join(freshDir(), 'never-made');
    try {
      const relay = spawnTsx('local/main.ts', { PORT: String(port), RELAY_DATA_DIR: dir });
      expect(await relay.exited()).toBe(1);
      expect(relay.output()).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(existsSync(dir)).toBe(false);
    } finally {
      busy.close();
    }
  }, 60_000);
});
