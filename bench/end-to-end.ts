import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FakeSquadcast } from '../devkit/fake-squadcast';
import { makeAlerts, wasAccepted, webhookBody } from './alerts';
import type { WireCounts } from './counting-proxy';
import { fetchCounts } from './counting-proxy';
import { diffCounts, percentile } from './stats';

/** The SQS poller local/stack.ts starts in place of the event source mapping (serverless.yml: batchSize 10, maximumConcurrency 2). */
export const LOCAL_POLLER = { concurrency: 2, batchSize: 10 } as const;

export interface EndToEndSettings {
  /** The project whose `npm start` entry runs: this one, or a ref's worktree. */
  readonly root: string;
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly squadcast: FakeSquadcast;
  readonly squadcastDelayMs: number;
  readonly alertsPerPost: number;
  readonly throughputAlerts: number;
  readonly senders: number;
  readonly latencySeconds: number;
  readonly latencyLoadFraction: number;
  /** Extra environment for the relay (e.g. the Squadcast rate ceiling). */
  readonly relayEnv: Readonly<Record<string, string>>;
}

export interface PhaseCounts {
  readonly alerts: number;
  readonly sqsRequests: Record<string, number>;
  readonly sqsBilledRequests: Record<string, number>;
  readonly nonEmptyReceives: number;
  readonly receivedMessages: number;
  readonly dynamodbRequests: Record<string, number>;
  readonly squadcastPosts: number;
}

export interface EndToEndResult {
  /** Alerts a second through the whole pipeline, between the 10th and 90th percentile arrivals. */
  readonly deliveredPerSecond: number;
  /** Alerts a second the webhook accepted (200) while it was pushed as hard as `senders` allow. */
  readonly acceptedPerSecond: number;
  /** What the local poller could deliver if every step but Squadcast's answer took no time. */
  readonly deliveryLimitPerSecond: number;
  readonly throughputCounts: PhaseCounts;
  readonly offeredPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly samples: number };
  readonly latencyCounts: PhaseCounts;
}

const TOKEN = 'bench-webhook-token-0123456789';

interface RelayProcess {
  readonly baseUrl: string;
  /** The first 20 kB the relay printed (startup, first deliveries): shown when a phase fails. */
  output(): string;
  stop(): Promise<void>;
}

/** `npm start`'s entry, pointed at the benchmark's emulators and fake Squadcast. */
const startRelay = async (settings: EndToEndSettings): Promise<RelayProcess> => {
  const child = spawn(join(settings.root, 'node_modules', '.bin', 'tsx'), ['local/main.ts'], {
    cwd: settings.root,
    env: {
      ...process.env,
      PORT: '0',
      AWS_ENDPOINT_URL_SQS: settings.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: settings.dynamodbEndpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      WEBHOOK_TOKEN: TOKEN,
      SQUADCAST_WEBHOOK_URL: settings.squadcast.url,
      LOCAL_RESOURCE_PREFIX: `bench-e2e-${Date.now().toString(36)}`,
      RELAY_DATA_DIR: '',
      ...settings.relayEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let head = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${head}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      if (head.length < 20_000) head += chunk.toString('utf8');
      const match = /webhook \(POST\)\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(head);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => reject(new Error(`relay exited early:\n${head}`)));
  });
  return {
    baseUrl,
    output: () => head,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
};

const waitFor = async (what: string, check: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`end to end: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** Posts one batch; returns when the webhook answered 200, with the ids it accepted. */
const post = async (baseUrl: string, alerts: readonly Record<string, unknown>[]): Promise<number> => {
  const response = await fetch(`${baseUrl}/threatstack/${TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: webhookBody(alerts),
  });
  const accepted = performance.now();
  const text = await response.text();
  if (!wasAccepted(response.status)) throw new Error(`webhook answered ${response.status}: ${text}`);
  return accepted;
};

interface Snapshot {
  readonly sqs: WireCounts;
  readonly dynamodb: WireCounts;
  readonly posts: number;
}

export const runEndToEnd = async (settings: EndToEndSettings): Promise<EndToEndResult> => {
  settings.squadcast.setDelayMs(settings.squadcastDelayMs);
  const relay = await startRelay(settings);
  const snapshot = async (): Promise<Snapshot> => ({
    sqs: await fetchCounts(settings.sqsEndpoint),
    dynamodb: await fetchCounts(settings.dynamodbEndpoint),
    posts: settings.squadcast.requests.length,
  });
  const countsSince = async (before: Snapshot, alerts: number): Promise<PhaseCounts> => {
    const after = await snapshot();
    return {
      alerts,
      sqsRequests: diffCounts(after.sqs.requests, before.sqs.requests),
      sqsBilledRequests: diffCounts(after.sqs.billedRequests, before.sqs.billedRequests),
      nonEmptyReceives: after.sqs.nonEmptyReceives - before.sqs.nonEmptyReceives,
      receivedMessages: after.sqs.receivedMessages - before.sqs.receivedMessages,
      dynamodbRequests: diffCounts(after.dynamodb.requests, before.dynamodb.requests),
      squadcastPosts: after.posts - before.posts,
    };
  };
  const arrived = (ids: readonly string[]): boolean => ids.every((id) => settings.squadcast.arrivals.has(id));
  /** Lets the poller delete the last batch and the ledger record it before counting. */
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1_500));

  try {
    // Warm-up: tsx compiles the relay on first use; connections open.
    const warm = makeAlerts(50);
    for (let i = 0; i < warm.length; i += settings.alertsPerPost) await post(relay.baseUrl, warm.slice(i, i + settings.alertsPerPost));
    await waitFor('warm-up deliveries', () => arrived(warm.map((a) => String(a.id))), 30_000);
    await settle();

    // Throughput: `senders` clients post back to back; the queue absorbs what delivery cannot keep up with.
    const batches = Array.from({ length: Math.ceil(settings.throughputAlerts / settings.alertsPerPost) }, () =>
      makeAlerts(settings.alertsPerPost),
    );
    const ids = batches.flat().map((a) => String(a.id));
    const beforeThroughput = await snapshot();
    const started = performance.now();
    let next = 0;
    let lastAccepted = started;
    await Promise.all(
      Array.from({ length: settings.senders }, async () => {
        while (next < batches.length) {
          const batch = batches[next++] as Record<string, unknown>[];
          lastAccepted = Math.max(lastAccepted, await post(relay.baseUrl, batch));
        }
      }),
    );
    await waitFor('throughput deliveries', () => arrived(ids), 120_000);
    const arrivals = ids.map((id) => settings.squadcast.arrivals.get(id) as number);
    const p10 = percentile(arrivals, 10);
    const p90 = percentile(arrivals, 90);
    const deliveredPerSecond = (0.8 * ids.length) / ((p90 - p10) / 1000);
    const acceptedPerSecond = ids.length / ((lastAccepted - started) / 1000);
    await settle();
    const throughputCounts = await countsSince(beforeThroughput, ids.length);

    // Latency: a steady offered load below capacity; each alert timed from its 200 to its arrival.
    const offeredPerSecond = Math.max(settings.alertsPerPost, Math.round(deliveredPerSecond * settings.latencyLoadFraction));
    const intervalMs = (1000 * settings.alertsPerPost) / offeredPerSecond;
    const posts = Math.max(1, Math.round((settings.latencySeconds * 1000) / intervalMs));
    const beforeLatency = await snapshot();
    const acceptedAt = new Map<string, number>();
    const sent: Promise<void>[] = [];
    const latencyStart = performance.now();
    for (let i = 0; i < posts; i++) {
      const wait = latencyStart + i * intervalMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const batch = makeAlerts(settings.alertsPerPost);
      sent.push(
        post(relay.baseUrl, batch).then((at) => {
          for (const a of batch) acceptedAt.set(String(a.id), at);
        }),
      );
    }
    await Promise.all(sent);
    const latencyIds = [...acceptedAt.keys()];
    await waitFor('latency deliveries', () => arrived(latencyIds), 60_000);
    const latencies = latencyIds.map((id) => (settings.squadcast.arrivals.get(id) as number) - (acceptedAt.get(id) as number));
    await settle();
    const latencyCounts = await countsSince(beforeLatency, latencyIds.length);

    return {
      deliveredPerSecond,
      acceptedPerSecond,
      deliveryLimitPerSecond: (LOCAL_POLLER.concurrency * LOCAL_POLLER.batchSize * 1000) / settings.squadcastDelayMs,
      throughputCounts,
      offeredPerSecond,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), samples: latencies.length },
      latencyCounts,
    };
  } catch (error) {
    throw new Error(`${(error as Error).message}\nrelay output:\n${relay.output().slice(0, 4000)}`);
  } finally {
    await relay.stop();
  }
};
