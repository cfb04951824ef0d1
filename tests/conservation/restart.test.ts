import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeSquadcast } from '../../devkit/fake-squadcast';
import { startFakeSquadcast } from '../../devkit/fake-squadcast';
import { eventually, startRelayProcess } from '../helpers/local-processes';
import type { RelaySupervisor } from '../helpers/relay-supervisor';
import { startRelaySupervisor } from '../helpers/relay-supervisor';

/**
 * `npm start` as a single-machine relay: its embedded queues and ledger live in a data directory.
 * Alerts are accepted while Squadcast is down, the relay is SIGKILLed (then, a second round,
 * stopped with SIGTERM) and started again on the same directory, Squadcast comes back: every
 * accepted alert must arrive, once, and the status history must have survived. Prints one line.
 */
const TOKEN = 'restart-token-0123456789abcdef';
const BURST = 200;
const SECOND_BURST = 50;

let dataDir: string;
let squadcast: FakeSquadcast;
let relay: RelaySupervisor;
let squadcastUp = true;
/** Squadcast's answers, per event id: the statuses it gave. */
const answers = new Map<string, number[]>();

type Status = { incidentsLast30Days: number; lastIncidentAt: string | null; queue: { pending: number; deadLetter: number } };
const status = async (): Promise<Status> => (await (await fetch(`${relay.baseUrl()}/status`)).json()) as Status;

const alert = (id: string): Record<string, unknown> => ({
  id,
  title: `Host:  restart alert ${id}`,
  created_at: 1_700_000_000_123,
  severity: 2,
  organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
  server_or_region: 'web-1',
  source: 'Host',
});

/** Posts `ids` in batches of 10; every batch must be answered 200 (the relay is up and its queue works). */
const post = async (ids: readonly string[]): Promise<void> => {
  for (let i = 0; i < ids.length; i += 10) {
    const response = await fetch(`${relay.baseUrl()}/threatstack/${TOKEN}`, {
      method: 'POST',
      body: JSON.stringify({ alerts: ids.slice(i, i + 10).map(alert) }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { accepted: number }).accepted).toBe(ids.slice(i, i + 10).length);
  }
};

const delivered = (ids: readonly string[]): string[] => ids.filter((id) => (answers.get(id) ?? []).some((code) => code < 300));
const duplicates = (ids: readonly string[]): number =>
  ids.reduce((sum, id) => sum + Math.max(0, (answers.get(id) ?? []).filter((code) => code < 300).length - 1), 0);
const failedAttempts = (): number => [...answers.values()].reduce((sum, codes) => sum + codes.filter((code) => code >= 500).length, 0);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'relay-data-'));
  squadcast = await startFakeSquadcast();
  squadcast.respondWith((request) => {
    const id = String((JSON.parse(request.body) as { event_id?: unknown }).event_id);
    const code = squadcastUp ? 202 : 503;
    answers.set(id, [...(answers.get(id) ?? []), code]);
    return { status: code };
  });
  relay = await startRelaySupervisor({
    RELAY_DATA_DIR: dataDir,
    AWS_ENDPOINT_URL_SQS: '',
    AWS_ENDPOINT_URL_DYNAMODB: '',
    WEBHOOK_TOKEN: TOKEN,
    SQUADCAST_WEBHOOK_URL: squadcast.url,
    // A message in flight when the relay dies comes back after this: short, for a test of seconds.
    LOCAL_VISIBILITY_TIMEOUT_SECONDS: '3',
    // An outage of this test must not dead-letter anything.
    LOCAL_MAX_RECEIVE_COUNT: '1000',
    DELIVERY_RETRY_BASE_SECONDS: '1',
    DELIVERY_RETRY_MAX_SECONDS: '2',
    DELIVERY_LEASE_MS: '2500',
    SQUADCAST_TIMEOUT_MS: '1000',
    SQUADCAST_MAX_PER_MINUTE: '60000',
  });
}, 150_000);

afterAll(async () => {
  await relay?.stop();
  await squadcast?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

test('SIGKILL, then SIGTERM, with alerts accepted while Squadcast is down: each arrives once after the restart; the status history survives', async () => {
  const started = Date.now();
  // Some history first: five incidents delivered while Squadcast is up.
  const history = Array.from({ length: 5 }, (_, i) => `history-${i}`);
  await post(history);
  await eventually('the history delivered', () => delivered(history).length === history.length);
  await eventually('the history recorded', async () => (await status()).incidentsLast30Days === history.length);
  const before = await status();

  // Squadcast goes down; 200 alerts are accepted and keep failing (in flight, waiting out a backoff,
  // or held back by the circuit breaker, which opens after 5 failures and then sends a probe a second).
  squadcastUp = false;
  const burst = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
  await post(burst);
  await eventually('deliveries failing, and probes failing after the breaker opened', () => failedAttempts() >= 12, 90_000);

  const killedAt = Date.now();
  await relay.killAndRestart('SIGKILL with 200 alerts accepted, none delivered');
  const restartMs = Date.now() - killedAt;
  const failedBeforeKill = failedAttempts();
  const afterKill = await status();
  // The history and every accepted alert are still there.
  expect(afterKill.incidentsLast30Days).toBe(history.length);
  expect(afterKill.lastIncidentAt).toBe(before.lastIncidentAt);
  expect(afterKill.queue).toEqual({ pending: BURST, deadLetter: 0 });
  expect(delivered(burst)).toEqual([]);

  // A second round, stopped gracefully this time (Ctrl-C or a service manager's SIGTERM).
  const second = Array.from({ length: SECOND_BURST }, (_, i) => `second-${i}`);
  await post(second);
  const stoppedAt = Date.now();
  await relay.killAndRestart('SIGTERM with 250 alerts waiting', 'SIGTERM');
  const gracefulRestartMs = Date.now() - stoppedAt;
  expect(relay.output()).toMatch(new RegExp(`stopped; ${BURST + SECOND_BURST} alerts still waiting for delivery \\(kept in `));
  expect((await status()).queue).toEqual({ pending: BURST + SECOND_BURST, deadLetter: 0 });

  // Another relay on the same directory is refused, and changes nothing.
  await expect(startRelayProcess({ RELAY_DATA_DIR: dataDir, WEBHOOK_TOKEN: TOKEN })).rejects.toThrow(
    /relay failed to start: the data directory .* is in use by another relay \(pid \d+\)/,
  );

  // Squadcast is back: everything drains.
  squadcastUp = true;
  const recovered = Date.now();
  const all = [...burst, ...second];
  await eventually('every accepted alert delivered', () => delivered(all).length === all.length, 60_000);
  const drainSeconds = (Date.now() - recovered) / 1000;
  await eventually('the queue empty', async () => (await status()).queue.pending === 0);
  const final = await status();
  const lost = all.length - delivered(all).length;
  const dups = duplicates([...history, ...all]);

  console.log(
    `crash-restart: accepted=${history.length + all.length} delivered=${delivered([...history, ...all]).length} duplicates=${dups} lost=${lost}` +
      ` restartMs(SIGKILL→serving)=${restartMs} restartMs(SIGTERM→serving)=${gracefulRestartMs} pendingAfterKill=${afterKill.queue.pending}` +
      ` failedAttemptsBeforeKill=${failedBeforeKill} historyBefore=${before.incidentsLast30Days} historyAfterRestarts=${afterKill.incidentsLast30Days}` +
      ` drainSeconds=${drainSeconds.toFixed(1)} incidentsLast30Days=${final.incidentsLast30Days} deadLetter=${final.queue.deadLetter} wallSeconds=${((Date.now() - started) / 1000).toFixed(1)}`,
  );
  expect(lost).toBe(0);
  expect(dups).toBe(0);
  expect(final.incidentsLast30Days).toBe(history.length + all.length);
  expect(final.queue).toEqual({ pending: 0, deadLetter: 0 });
}, 300_000);
