import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FakeSquadcast } from '../devkit/fake-squadcast';
import { startFakeSquadcast } from '../devkit/fake-squadcast';
import { seededRandom } from '../devkit/seeded-random';
import { behaving, incidentTimes } from './squadcast-behaviours';
import { percentile } from './stats';

/**
 * `npm run bench:recovery`: the retry schedule in real time, outside `npm test` (about 15 minutes).
 * The relay runs as `npm start -- --ephemeral` does (its own process, embedded emulators in memory,
 * PORT=0) against a fake Squadcast on 127.0.0.1 that fails at random or goes down, and each
 * scenario prints one line of figures, the same ones the simulated-clock tests print (tests/unit/delivery/retry-budget.test.ts):
 *   faults  300 alerts under 35 % random 500/429/timeouts, the ceiling lifted: 200 -> incident p99;
 *   outage  a 3-minute total outage, the ceiling lifted: delivered after recovery p99, none twice;
 *   drain   300 alerts accepted during a 3-minute outage at the default ceiling: per-minute pace.
 * `npm run bench:recovery -- faults drain` runs only those. Nothing leaves 127.0.0.1.
 */
const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const TOKEN = 'recovery-drill-token-0123456789';
const SECOND = 1_000;
const MINUTE = 60_000;

interface Relay {
  readonly webhookUrl: string;
  readonly baseUrl: string;
  stop(): Promise<void>;
}

/** `npm start` in its own process, with `env` over the local defaults; resolves once it prints its webhook URL. */
const startRelay = async (env: Record<string, string>): Promise<Relay> => {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', WEBHOOK_TOKEN: TOKEN, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env };
  // The relay's own embedded emulators, whatever this shell points at.
  delete childEnv.AWS_ENDPOINT_URL_SQS;
  delete childEnv.AWS_ENDPOINT_URL_DYNAMODB;
  // --ephemeral: the drill keeps nothing, and never touches (or waits on the lock of) ./.relay-data.
  const child: ChildProcess = spawn(TSX, ['local/main.ts', '--ephemeral'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = /webhook \(POST\)\s+(http:\/\/127\.0\.0\.1:\d+)(\/threatstack\/\S+)/.exec(output);
    if (match?.[1] && match[2]) {
      return {
        baseUrl: match[1],
        webhookUrl: `${match[1]}${match[2]}`,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the relay did not start:\n${output}`);
    await sleep(100);
  }
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const alert = (id: string): Record<string, unknown> => ({
  id,
  title: `Host:  recovery drill ${id}`,
  created_at: Date.now(),
  severity: 2,
  organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
  server_or_region: 'drill-1',
  source: 'Host',
});

/** Posts one batch; returns when the relay answered 200 (performance.now()), per alert id. */
const post = async (relay: Relay, ids: readonly string[]): Promise<number> => {
  const response = await fetch(relay.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ alerts: ids.map(alert) }),
  });
  await response.text();
  if (response.status !== 200) throw new Error(`the relay answered ${response.status}`);
  return performance.now();
};

/** Sends `batches` of ids, one batch every `everyMs`; records each alert's 200. */
const sendOver = async (relay: Relay, batches: readonly string[][], everyMs: number, acceptedAt: Map<string, number>): Promise<void> => {
  const start = performance.now();
  for (const [i, batch] of batches.entries()) {
    const wait = start + i * everyMs - performance.now();
    if (wait > 0) await sleep(wait);
    const at = await post(relay, batch);
    for (const id of batch) acceptedAt.set(id, at);
  }
};

const deadLetters = async (relay: Relay): Promise<number> => {
  const status = (await (await fetch(`${relay.baseUrl}/status`)).json()) as { queue?: { deadLetter?: number } };
  return Number(status.queue?.deadLetter ?? NaN);
};

/** Waits until Squadcast has accepted every id (or `timeoutMs`), then settles a moment for late duplicates. */
const waitForAll = async (squadcast: FakeSquadcast, ids: readonly string[], timeoutMs: number): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && !ids.every((id) => squadcast.acceptedFor(id).length > 0)) await sleep(200);
  await sleep(2 * SECOND);
};

const seconds = (ms: number): string => `${(ms / SECOND).toFixed(1)}s`;
const figures = (values: readonly number[]): string =>
  values.length === 0
    ? 'none'
    : `p50=${seconds(percentile(values, 50))} p99=${seconds(percentile(values, 99))} max=${seconds(Math.max(...values))}`;
const twiceAmong = (squadcast: FakeSquadcast, ids: readonly string[]): number =>
  ids.filter((id) => squadcast.acceptedFor(id).length > 1).length;

const batchesOf = (prefix: string, count: number, size: number): string[][] =>
  Array.from({ length: Math.ceil(count / size) }, (_, b) =>
    Array.from({ length: Math.min(size, count - b * size) }, (_, i) => `${prefix}-${b * size + i}`),
  );

type Scenario = (squadcast: FakeSquadcast) => Promise<string>;

/** The relay for one drill, sending to the fake Squadcast, with queues of its own name. */
const startDrillRelay = (name: string, squadcast: FakeSquadcast, env: Record<string, string> = {}): Promise<Relay> =>
  startRelay({ SQUADCAST_WEBHOOK_URL: squadcast.url, LOCAL_RESOURCE_PREFIX: `drill-${name}-${Date.now()}`, ...env });

/** 300 alerts, 10 every 6 s, while 35 % of Squadcast's answers are 500, 429 or no answer within 8 s. */
const faults: Scenario = async (squadcast) => {
  // A ceiling far above the drill's traffic: what is measured is the retries, not the pacing.
  const relay = await startDrillRelay('faults', squadcast, { SQUADCAST_MAX_PER_MINUTE: '6000' });
  try {
    squadcast.respondWith(behaving({ kind: 'faults', rate: 0.35, random: seededRandom(20_261_201), hangMs: 9_000 }));
    const postsBefore = squadcast.requests.length;
    const acceptedAt = new Map<string, number>();
    const batches = batchesOf('fault', 300, 10);
    await sendOver(relay, batches, 6 * SECOND, acceptedAt);
    const ids = batches.flat();
    await waitForAll(squadcast, ids, 10 * MINUTE);
    const waits = ids.map((id) => (incidentTimes(squadcast, id)[0] ?? NaN) - (acceptedAt.get(id) ?? NaN)).filter(Number.isFinite);
    const posts = squadcast.requests.length - postsBefore;
    // The slowest alert's attempts, as offsets from its 200 and Squadcast's answers (0: no answer before the relay's timeout).
    const slowest = ids.reduce((a, b) =>
      (incidentTimes(squadcast, a)[0] ?? 0) - (acceptedAt.get(a) ?? 0) >= (incidentTimes(squadcast, b)[0] ?? 0) - (acceptedAt.get(b) ?? 0)
        ? a
        : b,
    );
    const timeline = squadcast.requests
      .filter((r) => r.eventId === slowest)
      .map((r) => `+${seconds(r.arrivedAt - (acceptedAt.get(slowest) ?? NaN))}:${r.status}`)
      .join(' ');
    return `fault run (local stack, real time): alerts=300 faults=35% posts=${posts} (${(posts / 300).toFixed(2)} per alert) delivered=${waits.length} accepted->incident ${figures(waits)} deadLettered=${await deadLetters(relay)} twice=${twiceAmong(squadcast, ids)}; slowest: ${timeline}`;
  } finally {
    await relay.stop();
  }
};

/** One alert a second for 5 minutes; Squadcast answers 503 to everything from minute 1 to minute 4. */
const outage: Scenario = async (squadcast) => {
  // A ceiling far above the drill's traffic: what is measured is the retries, not the pacing.
  const relay = await startDrillRelay('outage', squadcast, { SQUADCAST_MAX_PER_MINUTE: '6000' });
  try {
    squadcast.respondWith(behaving({ kind: 'accept' }));
    const acceptedAt = new Map<string, number>();
    const batches = batchesOf('outage', 300, 1);
    const start = performance.now();
    let postsAtDown = 0;
    let postsAtUp = 0;
    let recoveredAt = NaN;
    const switches = (async () => {
      await sleep(MINUTE);
      postsAtDown = squadcast.requests.length;
      squadcast.respondWith(behaving({ kind: 'down' }));
      await sleep(3 * MINUTE);
      postsAtUp = squadcast.requests.length;
      squadcast.respondWith(behaving({ kind: 'accept' }));
      recoveredAt = performance.now();
    })();
    await sendOver(relay, batches, SECOND, acceptedAt);
    await switches;
    const ids = batches.flat();
    await waitForAll(squadcast, ids, 10 * MINUTE);
    const during = ids.filter((id) => {
      const at = (acceptedAt.get(id) ?? NaN) - start;
      return at >= MINUTE && at < 4 * MINUTE;
    });
    const afterRecovery = during.map((id) => (incidentTimes(squadcast, id)[0] ?? NaN) - recoveredAt).filter(Number.isFinite);
    return `3-minute outage (local stack, real time): accepted during it=${during.length} posts during it=${postsAtUp - postsAtDown} (${((postsAtUp - postsAtDown) / during.length / 3).toFixed(2)} per alert per minute) delivered=${afterRecovery.length}/${during.length} after recovery ${figures(afterRecovery)} deadLettered=${await deadLetters(relay)} twice=${twiceAmong(squadcast, ids)}`;
  } finally {
    await relay.stop();
  }
};

/** 300 alerts accepted during a 3-minute outage, at the default ceiling (150 a minute, one local limiter). */
const drain: Scenario = async (squadcast) => {
  const relay = await startDrillRelay('drain', squadcast);
  try {
    squadcast.respondWith(behaving({ kind: 'down' }));
    const acceptedAt = new Map<string, number>();
    const batches = batchesOf('drain', 300, 10);
    await sendOver(relay, batches, 6 * SECOND, acceptedAt);
    await sleep(3 * MINUTE - 30 * 6 * SECOND);
    squadcast.respondWith(behaving({ kind: 'accept' }));
    const recoveredAt = performance.now();
    const ids = batches.flat();
    await waitForAll(squadcast, ids, 15 * MINUTE);
    const delivered = ids.map((id) => (incidentTimes(squadcast, id)[0] ?? NaN) - recoveredAt).filter(Number.isFinite);
    const last = Math.max(...delivered);
    const perMinute = Array.from(
      { length: Math.ceil(last / MINUTE) },
      (_, m) => delivered.filter((d) => d >= m * MINUTE && d < (m + 1) * MINUTE).length,
    );
    // One local limiter with the whole ceiling: a burst of 10, then one every ceil(60 s / 141).
    const idealMs = ((300 - 10) / (MINUTE / Math.ceil(MINUTE / 141))) * MINUTE;
    return `drain at the default ceiling (local stack, real time, 150 a minute): backlog=${ids.length} delivered=${delivered.length} per minute after recovery=${perMinute.join(',')} all delivered after ${seconds(last)} (at the ceiling's pace: ${seconds(idealMs)}) deadLettered=${await deadLetters(relay)} twice=${twiceAmong(squadcast, ids)}`;
  } finally {
    await relay.stop();
  }
};

const SCENARIOS: Readonly<Record<string, Scenario>> = { faults, outage, drain };

const USAGE = [
  `usage: npm run bench:recovery [-- <scenario>...]   scenarios: ${Object.keys(SCENARIOS).join(', ')} (all by default)`,
  '  Drills the local relay in real time against a fake Squadcast: faults, an outage and its recovery, a drain.',
].join('\n');

/** A wrong command line: said without a stack trace. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const main = async (): Promise<void> => {
  const chosen = process.argv.slice(2).filter((arg) => arg !== '--');
  if (chosen.includes('--help') || chosen.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const names = chosen.length > 0 ? chosen : Object.keys(SCENARIOS);
  for (const name of names) if (!SCENARIOS[name]) throw new UsageError(`unknown scenario ${name}\n${USAGE}`);
  for (const name of names) {
    const squadcast = await startFakeSquadcast({ key: 'BENCH-FAKE-KEY', delayMs: 20 });
    try {
      const started = performance.now();
      const line = await (SCENARIOS[name] as Scenario)(squadcast);
      console.log(`${line} [${seconds(performance.now() - started)} wall]`);
    } finally {
      await squadcast.stop();
    }
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof UsageError ? error.message : `recovery drill failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
