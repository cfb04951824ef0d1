import { join } from 'node:path';
import { resolveEnvironment } from './bundles';
import type { ImportGroup, NodeComparisonSamples, SdkClient } from './cold-start';
import { buildBareBundle, FUNCTION_CLIENTS, importGraphOf, nodeVersionOf, sampleColdStarts, sampleNodeComparison } from './cold-start';
import { BENCH } from './config';
import type { EndToEndResult } from './end-to-end';
import { runEndToEnd } from './end-to-end';
import type { Harness } from './harness';
import { ingestEnv, lambdaLikeEnv, runWorker, say, TOKEN } from './harness';
import type { LedgerSizes } from './ledger-sizes';
import { ledgerSizes } from './ledger-sizes';
import type { MemoryRun } from './measure-memory';
import { measureMemory } from './measure-memory';
import type { DeliverWorkerResult, DeliverWorkerSettings, SingleBatchResult } from './workers/deliver-worker';
import type { IngestWorkerResult, IngestWorkerSettings } from './workers/ingest-worker';

/**
 * The runs the figures are computed from. Several figures share one run (figures 1 and 2 one
 * ingest run, 3 and 4 one deliver run); `bench/run.ts` runs each needed one once, in this order.
 */

export type IngestRun = Extract<IngestWorkerResult, { mode: 'requests-and-overhead' }>;
export interface DeliverRun {
  readonly rounds: DeliverWorkerResult;
  /** A first batch in a fresh container, with the rate ceiling as serverless.yml configures it. */
  readonly firstBatch: { oneRecordMs: number[]; tenRecordsMs: number[]; failed: number };
  /** The ledger items those deliveries left, sized as DynamoDB bills them. */
  readonly ledger: LedgerSizes;
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
  /** What the bundle holds, by package or project folder, largest first. */
  readonly importGraph: readonly ImportGroup[];
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
  return { rounds, firstBatch, ledger: await ledgerSizes(h.aws.dynamodbEndpoint, h.resources.ledgerTableName) };
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
    const barePath = join(h.work, `bare-${h.slug}-${name}.js`);
    const bareBytes = await buildBareBundle(barePath, h.pkg.esbuildOptions, clients.atInit, [], h.root);
    const allPath = join(h.work, `bare-all-${h.slug}-${name}.js`);
    const allBytes =
      clients.later.length > 0 ? await buildBareBundle(allPath, h.pkg.esbuildOptions, clients.atInit, clients.later, h.root) : undefined;
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
      importGraph: await importGraphOf(h.root, packaged.entry, h.pkg.esbuildOptions),
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
    root: h.root,
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

const MEASURE: { readonly [K in RunName]: (h: Harness) => Promise<Runs[K]> } = {
  ingest: measureIngest,
  memory: measureMemory,
  deliver: measureDeliver,
  coldStart: measureColdStart,
  endToEnd: measureEndToEnd,
};

/** One run on one side of the harness. */
export const measureRun = async <K extends RunName>(h: Harness, run: K): Promise<Runs[K]> => MEASURE[run](h);

/** Runs the named runs, in the order of RUN_ORDER. */
export const measure = async (h: Harness, needed: ReadonlySet<RunName>): Promise<Partial<Runs>> => {
  const runs: Partial<Runs> = {};
  for (const run of RUN_ORDER) if (needed.has(run)) Object.assign(runs, { [run]: await measureRun(h, run) });
  return runs;
};
