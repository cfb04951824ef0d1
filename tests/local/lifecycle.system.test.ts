import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAME_CTRL_C_MS } from '../../local/settings';
import type { RelayProcess } from '../helpers/local-processes';
import { eventually, startRelayProcess } from '../helpers/local-processes';

/**
 * `npm start`'s life as a process: a bad setting stops it before it serves anything; SIGTERM or
 * Ctrl-C stops it within a few seconds, saying what is pending and releasing the alerts of a
 * delivery that did not finish; a second Ctrl-C quits at once.
 */
const TOKEN = 'lifecycle-token-0123456789abcdef';

/** A Squadcast that, while `slow`, never answers: a delivery stays in progress past the stop's grace period. */
let slow = true;
const squadcast = { url: '', requests: [] as Array<{ body: string }> };
let server: Server;
const dirs: string[] = [];
const relays: RelayProcess[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      squadcast.requests.push({ body });
      if (slow) return;
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  squadcast.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/incidents/api/LIFECYCLE-KEY`;
});

afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.stop('SIGKILL')));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const start = async (env: NodeJS.ProcessEnv): Promise<RelayProcess> => {
  const relay = await startRelayProcess({
    AWS_ENDPOINT_URL_SQS: '',
    AWS_ENDPOINT_URL_DYNAMODB: '',
    WEBHOOK_TOKEN: TOKEN,
    SQUADCAST_WEBHOOK_URL: squadcast.url,
    // A POST stays in progress 6 s, past the stop's 5 s grace. The claim's lease outlasts it with room
    // for the claim and the turn (deliver sends only with SQUADCAST_TIMEOUT_MS + 1 s of lease left),
    // and the pace is lifted: the three alerts are all in flight at the deadline.
    SQUADCAST_TIMEOUT_MS: '6000',
    DELIVERY_LEASE_MS: '9000',
    SQUADCAST_MAX_PER_MINUTE: '6000',
    ...env,
  });
  relays.push(relay);
  return relay;
};

const postAlerts = async (relay: RelayProcess, ids: readonly string[]): Promise<void> => {
  const response = await fetch(`${relay.baseUrl}/threatstack/${TOKEN}`, {
    method: 'POST',
    body: JSON.stringify({
      alerts: ids.map((id) => ({
        id,
        title: `Host:  lifecycle ${id}`,
        created_at: 1_700_000_000_000,
        severity: 1,
        organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
        server_or_region: 'web-1',
        source: 'Host',
      })),
    }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ accepted: ids.length, rejected: 0 });
};

describe('a bad setting stops npm start at once, with the message, before anything is served', () => {
  it.each([
    ['WEBHOOK_TOKEN', { WEBHOOK_TOKEN: 'short SENTINEL' }, 'WEBHOOK_TOKEN: must be 16 to 256 URL-safe characters'],
    ['SQUADCAST_WEBHOOK_URL', { SQUADCAST_WEBHOOK_URL: 'http://squadcast.example/v2/incidents/api/SENTINEL' }, 'SQUADCAST_WEBHOOK_URL: '],
    ['DELIVERY_LEASE_MS', { DELIVERY_LEASE_MS: 'SENTINEL' }, 'DELIVERY_LEASE_MS'],
  ])('%s', async (_key, env, message) => {
    const failed = start({ RELAY_DATA_DIR: '', ...env });
    await expect(failed).rejects.toThrow(`relay failed to start: invalid configuration: ${message}`);
    const output = await failed.catch((error: Error) => error.message);
    expect(output).not.toContain('SENTINEL');
    expect(output).not.toMatch(/webhook \(POST\)/);
  });
});

describe('what npm start prints', () => {
  it('one short line an event by default (LOG_FORMAT=human), not the JSON lines Lambda keeps', async () => {
    slow = false;
    const relay = await start({ RELAY_DATA_DIR: '', LOG_FORMAT: '' });
    await postAlerts(relay, ['printed-1']);
    await eventually('the incident delivered', () => /deliver\s+incident delivered\s+alertId=printed-1/.test(relay.output()));
    expect(relay.output()).toMatch(/^\d\d:\d\d:\d\d ingest\s+webhook accepted\s+.*alertIds=printed-1/m);
    expect(relay.output()).not.toMatch(/^\{/m);
    await relay.stop();
  }, 90_000);
});

describe('stopping', () => {
  it('SIGTERM: no new webhooks, a delivery still running at the deadline is released, exit 0 saying what is pending; the next start delivers it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-lifecycle-'));
    dirs.push(dataDir);
    slow = true;
    const relay = await start({ RELAY_DATA_DIR: dataDir });
    const ids = ['stop-1', 'stop-2', 'stop-3'];
    await postAlerts(relay, ids);
    await eventually('the deliveries in progress', () => squadcast.requests.length >= ids.length);

    const signalled = Date.now();
    relay.child.kill('SIGTERM');
    await eventually('the stop begun', () => relay.output().includes('SIGTERM: stopping'));
    // While it stops it takes no webhook: 503 while deliveries finish (the inbox is still served), then the listener closes.
    const during = await fetch(`${relay.baseUrl}/threatstack/${TOKEN}`, { method: 'POST', body: '{}' }).then(
      (response) => response.status,
      () => 'closed',
    );
    expect([503, 'closed']).toContain(during);
    expect(await relay.exited()).toBe(0);
    const stopMs = Date.now() - signalled;
    expect(relay.output()).toContain('[local] stopped; 3 alerts still waiting for delivery (kept in ');
    expect(relay.output()).toContain('[local] 1 delivery still running at the deadline: 3 alerts released to be tried again');

    // Started again on the same directory: the released alerts are delivered once the claims' lease has passed.
    slow = false;
    const before = squadcast.requests.length;
    const restarted = Date.now();
    const again = await start({ RELAY_DATA_DIR: dataDir });
    await eventually('the released alerts delivered', () => squadcast.requests.length >= before + ids.length, 30_000);
    const redeliveryMs = Date.now() - restarted;
    const sentAgain = squadcast.requests.slice(before).map((request) => (JSON.parse(request.body) as { event_id: string }).event_id);
    console.log(
      `graceful stop: exit ${stopMs} ms after SIGTERM (grace 5000 ms) with 1 delivery stuck on a Squadcast that does not answer; released 3; after restart delivered again within ${redeliveryMs} ms (lease 9000 ms)`,
    );
    expect(sentAgain.sort()).toEqual(ids);
    await again.stop();
  }, 120_000);

  it('a second Ctrl-C quits at once (exit 130)', async () => {
    slow = true;
    const relay = await start({ RELAY_DATA_DIR: '' });
    const before = squadcast.requests.length;
    await postAlerts(relay, ['ctrl-c-1']);
    await eventually('the delivery in progress', () => squadcast.requests.length > before);
    relay.child.kill('SIGINT');
    await eventually('the stop begun', () => relay.output().includes('SIGINT: stopping'));
    // One Ctrl-C reaches the relay twice (from the terminal and forwarded by npm) within a moment:
    // that is still the first. A deliberate second one comes later.
    relay.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(relay.output()).not.toContain('SIGINT again');
    await new Promise((resolve) => setTimeout(resolve, SAME_CTRL_C_MS));
    relay.child.kill('SIGINT');
    expect(await relay.exited()).toBe(130);
    expect(relay.output()).toContain('[local] SIGINT again: quitting at once');
    expect(relay.output()).not.toContain('[local] stopped;');
  }, 90_000);

  it('one Ctrl-C to the whole foreground group (npm, node, the relay) is one graceful stop, on a busy machine too', async () => {
    // Both cores kept busy, as the machine that showed the double stop was.
    const busy = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const outcomes: string[] = [];
    try {
      for (let run = 0; run < 2; run += 1) {
        // `npm start` as a terminal runs it: its own process group, which Ctrl-C signals as a whole.
        const npm = spawn('npm', ['start'], {
          cwd: join(__dirname, '..', '..'),
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            PORT: '0',
            RELAY_DATA_DIR: '',
            WEBHOOK_TOKEN: TOKEN,
            SQUADCAST_WEBHOOK_URL: squadcast.url,
            LOG_FORMAT: 'json',
          },
        });
        let output = '';
        npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        const exited = new Promise<void>((resolve) => npm.on('close', () => resolve()));
        await eventually('npm start serving', () => /webhook \(POST\)\s+http:\/\/127\.0\.0\.1:\d+\//.test(output), 60_000);
        process.kill(-(npm.pid ?? 0), 'SIGINT');
        await exited;
        expect(output.match(/\[local\] SIGINT: stopping/g)).toHaveLength(1);
        expect(output).not.toContain('SIGINT again');
        expect(output).toMatch(/\[local\] stopped; /);
        outcomes.push('graceful');
      }
    } finally {
      for (const child of busy) child.kill('SIGKILL');
    }
    console.log(`one Ctrl-C to npm start's process group, both cores busy: ${outcomes.length} of 2 stops graceful, none quit at once`);
  }, 150_000);

  it('a copy of the same Ctrl-C passed on by a wrapper (as tsx does) moments later is still the first: one graceful stop', async () => {
    slow = false;
    const relay = await start({ RELAY_DATA_DIR: '' });
    relay.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 50));
    relay.child.kill('SIGINT');
    expect(await relay.exited()).toBe(0);
    expect(relay.output().match(/\[local\] SIGINT: stopping/g)).toHaveLength(1);
    expect(relay.output()).not.toContain('SIGINT again');
    expect(relay.output()).toMatch(/\[local\] stopped; /);
  }, 90_000);
});
