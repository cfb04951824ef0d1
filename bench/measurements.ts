import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_ALERTS_PER_REQUEST, MAX_BODY_BYTES } from '../lib/ingest/request-screen';
import { makeAlerts, webhookBody } from './alerts';
import { resolveEnvironment } from './bundles';
import type { NodeComparisonSamples, SdkClient } from './cold-start';
import { buildBareBundle, FUNCTION_CLIENTS, nodeVersionOf, sampleColdStarts, sampleNodeComparison } from './cold-start';
import { BENCH } from './config';
import type { EndToEndResult } from './end-to-end';
import { runEndToEnd } from './end-to-end';
import type { Harness } from './harness';
import { lambdaLikeEnv, runWorker, say, TOKEN } from './harness';
import type { DeliverWorkerResult, DeliverWorkerSettings, SingleBatchResult } from './workers/deliver-worker';
import type { IngestWorkerResult, IngestWorkerSettings } from './workers/ingest-worker';

/**
 * The runs the figures are computed from. Several figures share one run (figures 1 and 2 one
 * ingest run, 3 and 4 one deliver run); `bench/run.ts` runs each needed one once, in this order.
 */

export type IngestRun = Extract<IngestWorkerResult, { mode: 'requests-and-overhead' }>;
export type MemoryRow = Omit<Extract<IngestWorkerResult, { mode: 'memory' }>, 'mode'> & {
  alerts: number;
  /** Realistic alerts (bench/alerts.ts), or the worst case: tiny ones, `{"id":"<n>"}`. */
  shape: 'realistic' | 'tiny';
};
export interface MemoryRun {
  readonly rows: MemoryRow[];
  /** The largest batch of realistic alerts ingest takes (its body within the byte limit, its count within the alert limit). */
  readonly largestAccepted: number;
}
export interface DeliverRun {
  readonly rounds: DeliverWorkerResult;
  /** A first batch in a fresh container, with the rate ceiling as serverless.yml configures it. */
  readonly firstBatch: { oneRecordMs: number[]; tenRecordsMs: number[]; failed: number };
}
export interface ColdStartRow {
  readonly name: string;
  readonly zipBytes: number;
  readonly bundleBytes: number;
  readonly bareBytes: number;
  readonly allBytes: number | undefined;
  readonly clients: { readonly atInit: readonly SdkClient[]; readonly later: readonly SdkClient[] };
  readonly realMs: number[];
  readonly bareMs: number[][];
  /** The same bundle under another Node binary (BENCH_COMPARE_NODE), when one is named. */
  readonly otherNode?: { readonly version: string } & NodeComparisonSamples;
}

export interface Runs {
  ingest: IngestRun;
  memory: MemoryRun;
  deliver: DeliverRun;
  coldStart: ColdStartRow[];
  endToEnd: EndToEndResult;
}
export type RunName = keyof Runs;
/** The order runs happen in: cold start with nothing else running, end to end last. */
export const RUN_ORDER: readonly RunName[] = ['ingest', 'memory', 'deliver', 'coldStart', 'endToEnd'];

/** Deliver's rate ceiling lifted, to measure the delivery path itself (figures 3, 4 and 7). */
export const LIFTED = { SQUADCAST_MAX_PER_MINUTE: String(BENCH.liftedCeilingPerMinute) };

/** The token as a value; no previous token (its SSM parameter would be read from AWS itself). */
const ingestEnv = (h: Harness): NodeJS.ProcessEnv =>
  lambdaLikeEnv(
    resolveEnvironment(h.fn('ingest').environment, { ...h.queues, WEBHOOK_TOKEN: TOKEN, WEBHOOK_TOKEN_PREVIOUS_PARAMETER: '' }),
    h.endpoints,
  );

/** Figures 1 and 2: SQS requests per alert by batch size, and the handler against a bare SendMessageBatch script. */
const measureIngest = async (h: Harness): Promise<IngestRun> => {
  say('figures 1-2: ingest requests per alert, ingest overhead');
  return runWorker<IngestRun>(h.ingestWorker, ingestEnv(h), {
    mode: 'requests-and-overhead',
    bundlePath: h.fn('ingest').bundlePath,
    token: TOKEN,
    sqsProxy: h.aws.sqsEndpoint,
    minimumBundlePath: h.ingestMinimum,
    batchSizes: BENCH.ingestBatchSizes,
    roundsPerSize: BENCH.ingestRoundsPerSize,
    overheadBatchSize: BENCH.overheadBatchSize,
    warmupRounds: BENCH.overheadWarmupRounds,
    rounds: BENCH.overheadRounds,
  } satisfies IngestWorkerSettings);
};

const largestAcceptedBatch = (): number => {
  const alerts = makeAlerts(MAX_ALERTS_PER_REQUEST);
  let low = 1;
  let high = alerts.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(webhookBody(alerts.slice(0, mid))) <= MAX_BODY_BYTES) low = mid;
    else high = mid - 1;
  }
  return low;
};

/** The worst case for ingest's time: the most alerts a request may hold, each as small as an alert can be. */
const tinyAlerts = (count: number): Record<string, unknown>[] => Array.from({ length: count }, (_, i) => ({ id: `tiny-${i}` }));

/** Figure 6: peak memory and time of one invocation, one fresh process per batch. */
const measureMemory = async (h: Harness): Promise<MemoryRun> => {
  say('figure 6: ingest peak memory and the worst-case batch, one fresh process per batch');
  const largest = largestAcceptedBatch();
  const sizes = [...new Set(BENCH.memoryBatchSizes.map((size) => (size === 'largest-accepted' ? largest : size)))].sort((a, b) => a - b);
  const batches = [
    ...sizes.map((alerts) => ({ alerts, shape: 'realistic' as const, body: () => webhookBody(makeAlerts(alerts)) })),
    ...[MAX_ALERTS_PER_REQUEST, MAX_ALERTS_PER_REQUEST + 1].map((alerts) => ({
      alerts,
      shape: 'tiny' as const,
      body: () => webhookBody(tinyAlerts(alerts)),
    })),
  ];
  const rows: MemoryRow[] = [];
  for (const { alerts, shape, body } of batches) {
    const bodyFile = join(h.work, `body-${shape}-${alerts}.json`);
    writeFileSync(bodyFile, body());
    const result = await runWorker<Extract<IngestWorkerResult, { mode: 'memory' }>>(h.ingestWorker, ingestEnv(h), {
      mode: 'memory',
      bundlePath: h.fn('ingest').bundlePath,
      token: TOKEN,
      bodyFile,
    } satisfies IngestWorkerSettings);
    const { mode: _mode, ...figures } = result;
    rows.push({ alerts, shape, ...figures });
  }
  return { rows, largestAccepted: largest };
};

/** Figures 3 and 4: paired rounds of 1- and 10-record batches (and the bare minimum), then first batches as configured. */
const measureDeliver = async (h: Harness): Promise<DeliverRun> => {
  say(`figures 3-4: deliver with Squadcast answering after ${BENCH.squadcastDelayMs} ms`);
  h.squadcast.setDelayMs(BENCH.squadcastDelayMs);
  const deliverEnv = lambdaLikeEnv(
    resolveEnvironment(h.fn('deliver').environment, {
      ...h.queues,
      LEDGER_TABLE_NAME: h.resources.ledgerTableName,
      SQUADCAST_WEBHOOK_URL: h.squadcast.url,
    }),
    h.endpoints,
  );
  const rounds = await runWorker<DeliverWorkerResult>(h.deliverWorker, { ...deliverEnv, ...LIFTED }, {
    mode: 'rounds',
    bundlePath: h.fn('deliver').bundlePath,
    minimumBundlePath: h.deliverMinimum,
    queueArn: h.queueArn,
    sqsProxy: h.aws.sqsEndpoint,
    dynamodbProxy: h.aws.dynamodbEndpoint,
    squadcastUrl: h.squadcast.url,
    warmupRounds: BENCH.deliverWarmupRounds,
    rounds: BENCH.deliverRounds,
  } satisfies DeliverWorkerSettings);
  // The same, as serverless.yml configures it (rate ceiling on): a first batch in a fresh container.
  const firstBatch = { oneRecordMs: [] as number[], tenRecordsMs: [] as number[], failed: 0 };
  for (let run = 0; run < BENCH.firstBatchRuns; run++) {
    for (const records of [1, 10]) {
      const result = await runWorker<SingleBatchResult>(h.deliverWorker, deliverEnv, {
        mode: 'single-batch',
        bundlePath: h.fn('deliver').bundlePath,
        queueArn: h.queueArn,
        records,
      } satisfies DeliverWorkerSettings);
      (records === 1 ? firstBatch.oneRecordMs : firstBatch.tenRecordsMs).push(result.ms);
      firstBatch.failed += result.failed;
    }
  }
  return { rounds, firstBatch };
};

/**
 * BENCH_COMPARE_NODE=/usr/bin/node (say, a Node 20) adds to figure 5 each bundle's load + init under
 * that Node against the project's, measured side by side. Unset, or not a working binary: left out.
 */
const otherNodeToCompare = (): { readonly path: string; readonly version: string } | undefined => {
  const path = process.env.BENCH_COMPARE_NODE?.trim();
  if (!path) return undefined;
  const version = nodeVersionOf(path);
  if (version === undefined) {
    say(`BENCH_COMPARE_NODE=${path} does not run: the Node comparison is left out`);
    return undefined;
  }
  return { path, version };
};

/** Figure 5: nothing else runs meanwhile. Parameters stay SSM names, as in AWS (read on first invoke). */
const measureColdStart = async (h: Harness): Promise<ColdStartRow[]> => {
  say(`figure 5: cold start, ${BENCH.coldStartRuns} fresh processes per bundle`);
  const compareNode = otherNodeToCompare();
  const rows: ColdStartRow[] = [];
  for (const packaged of Object.values(h.pkg.functions)) {
    const name = packaged.name;
    const clients = FUNCTION_CLIENTS[name];
    if (clients === undefined)
      throw new Error(
        `bench/cold-start.ts: FUNCTION_CLIENTS names no SDK clients for function ${name}; add the clients it creates at init`,
      );
    const barePath = join(h.work, `bare-${name}.js`);
    const bareBytes = await buildBareBundle(barePath, h.pkg.esbuildOptions, clients.atInit);
    const allPath = join(h.work, `bare-all-${name}.js`);
    const allBytes =
      clients.later.length > 0 ? await buildBareBundle(allPath, h.pkg.esbuildOptions, clients.atInit, clients.later) : undefined;
    const env = lambdaLikeEnv(
      resolveEnvironment(packaged.environment, {
        ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-alerts',
        DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-dead-letter',
        ...(packaged.environment.LEDGER_TABLE_NAME === undefined ? {} : { LEDGER_TABLE_NAME: 'bench-ledger' }),
      }),
      { AWS_LAMBDA_FUNCTION_NAME: `bench-${name}` },
    );
    const samples = sampleColdStarts(
      packaged.bundlePath,
      allBytes === undefined ? [barePath] : [barePath, allPath],
      env,
      BENCH.coldStartRuns,
    );
    const otherNode =
      compareNode === undefined
        ? undefined
        : { version: compareNode.version, ...sampleNodeComparison(packaged.bundlePath, compareNode.path, env, BENCH.coldStartRuns) };
    rows.push({
      name,
      zipBytes: packaged.zipBytes,
      bundleBytes: packaged.bundleBytes,
      bareBytes,
      allBytes,
      clients,
      ...samples,
      ...(otherNode === undefined ? {} : { otherNode }),
    });
  }
  return rows;
};

/** Figure 7: through `npm start`'s entry (the TypeScript sources, not the bundles). */
const measureEndToEnd = async (h: Harness): Promise<EndToEndResult> => {
  say('figure 7: end to end through `npm start` (local/main.ts)');
  return runEndToEnd({
    sqsEndpoint: h.aws.sqsEndpoint,
    dynamodbEndpoint: h.aws.dynamodbEndpoint,
    squadcast: h.squadcast,
    squadcastDelayMs: BENCH.squadcastDelayMs,
    alertsPerPost: BENCH.endToEndAlertsPerPost,
    throughputAlerts: BENCH.endToEndThroughputAlerts,
    senders: BENCH.endToEndSenders,
    latencySeconds: BENCH.endToEndLatencySeconds,
    latencyLoadFraction: BENCH.endToEndLatencyLoadFraction,
    relayEnv: LIFTED,
  });
};

/** Runs the named runs, in the order of RUN_ORDER. */
export const measure = async (h: Harness, needed: ReadonlySet<RunName>): Promise<Partial<Runs>> => {
  const runs: Partial<Runs> = {};
  if (needed.has('ingest')) runs.ingest = await measureIngest(h);
  if (needed.has('memory')) runs.memory = await measureMemory(h);
  if (needed.has('deliver')) runs.deliver = await measureDeliver(h);
  if (needed.has('coldStart')) runs.coldStart = await measureColdStart(h);
  if (needed.has('endToEnd')) runs.endToEnd = await measureEndToEnd(h);
  return runs;
};
