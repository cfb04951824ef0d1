import { fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MAX_BODY_BYTES } from '../lib/ingest/ingest-webhook';
import { provision } from '../local/provision';
import { makeAlerts, webhookBody } from './alerts';
import type { PackagedService } from './bundles';
import { bundleEntry, bundleWorker, PROJECT_ROOT, packageService, resolveEnvironment } from './bundles';
import { buildBareBundle, FUNCTION_CLIENTS, sampleColdStarts } from './cold-start';
import { BENCH, PRICES, TARGETS } from './config';
import type { MeasuredDesign } from './cost';
import { costPerMillionAlerts, usageOfDesign, usageWithoutBatching } from './cost';
import { fetchCounts } from './counting-proxy';
import type { EndToEndResult } from './end-to-end';
import { LOCAL_POLLER, runEndToEnd } from './end-to-end';
import { startFakeSquadcast } from './fake-squadcast';
import { dollars, fixed, kib, mib, renderTable, verdict } from './report';
import { median, medianRatio, minBatchRequestsPerMessage, slope, sumCounts, writeRequestUnits } from './stats';
import type { DeliverWorkerResult, DeliverWorkerSettings, SingleBatchResult } from './workers/deliver-worker';
import type { IngestWorkerResult, IngestWorkerSettings } from './workers/ingest-worker';

const RESULTS = join(PROJECT_ROOT, 'bench', 'results', 'latest.json');
const TOKEN = 'bench-webhook-token-0123456789';
const benchStart = Date.now();
const say = (line: string): void =>
  void process.stderr.write(`[bench ${((Date.now() - benchStart) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

interface AwsProcess {
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  stop(): Promise<void>;
}

/** The emulators and their counting proxies, in a process of their own. */
const startAwsProcess = async (): Promise<AwsProcess> => {
  const child = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['bench/aws-process.ts'], {
    cwd: PROJECT_ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoints = await new Promise<{ sqsEndpoint: string; dynamodbEndpoint: string }>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const line = output.split('\n').find((l) => l.startsWith('{"sqsEndpoint"'));
      if (line !== undefined) resolve(JSON.parse(line) as { sqsEndpoint: string; dynamodbEndpoint: string });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => reject(new Error(`emulators exited:\n${output}`)));
  });
  return {
    ...endpoints,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
};

/** A worker sees only what a Lambda function would: its environment, region and (dummy) credentials. */
const lambdaLikeEnv = (functionEnv: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_EC2_METADATA_DISABLED: 'true',
  ...functionEnv,
  ...extra,
});

const runWorker = <T>(script: string, env: NodeJS.ProcessEnv, settings: unknown): Promise<T> =>
  new Promise((resolve, reject) => {
    const child = fork(script, [], {
      env: { ...env, BENCH_WORKER: JSON.stringify(settings) },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let result: T | undefined;
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('message', (message) => (result = message as T));
    child.once('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`${script} exited ${code}:\n${stderr}`))));
  });

/** The largest batch of realistic alerts whose body stays within ingest's limit. */
const largestAcceptedBatch = (): number => {
  const alerts = makeAlerts(20_000);
  let low = 1;
  let high = alerts.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(webhookBody(alerts.slice(0, mid))) <= MAX_BODY_BYTES) low = mid;
    else high = mid - 1;
  }
  return low;
};

const perAlert = (count: number | undefined, alerts: number): number => (count ?? 0) / alerts;

const main = async (): Promise<void> => {
  const startedAt = new Date();
  const work = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const text: string[] = [];
  const print = (line = ''): void => void text.push(line);
  const stops: (() => Promise<void>)[] = [];
  try {
    say(`packaging with serverless (${work})`);
    const pkg: PackagedService = packageService(join(work, 'package'));
    const fn = (name: string) => {
      const found = pkg.functions[name];
      if (found === undefined) throw new Error(`serverless.yml has no function ${name}`);
      return found;
    };
    const ingestWorker = join(work, 'ingest-worker.js');
    const deliverWorker = join(work, 'deliver-worker.js');
    await bundleWorker('bench/workers/ingest-worker.ts', ingestWorker);
    await bundleWorker('bench/workers/deliver-worker.ts', deliverWorker);
    // The bare minimums of figures 2 and 3, bundled exactly like the functions.
    const ingestMinimum = join(work, 'ingest-minimum.js');
    const deliverMinimum = join(work, 'deliver-minimum.js');
    await bundleEntry('bench/minimum/ingest-minimum.ts', ingestMinimum, pkg.esbuildOptions);
    await bundleEntry('bench/minimum/deliver-minimum.ts', deliverMinimum, pkg.esbuildOptions);

    say('starting emulators, counting proxies and the fake Squadcast on 127.0.0.1');
    const aws = await startAwsProcess();
    stops.push(aws.stop);
    const squadcast = await startFakeSquadcast(BENCH.squadcastDelayMs);
    stops.push(squadcast.stop);
    const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const sqs = new SQSClient({ ...clientConfig, endpoint: aws.sqsEndpoint });
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: aws.dynamodbEndpoint });
    const resources = await provision(sqs, dynamodb, `bench-${Date.now().toString(36)}`, {
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 15,
    });
    const queueArn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: resources.alertsQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes
        ?.QueueArn ?? '';
    sqs.destroy();
    dynamodb.destroy();
    const endpoints = { AWS_ENDPOINT_URL_SQS: aws.sqsEndpoint, AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodbEndpoint };
    const queues = { ALERTS_QUEUE_URL: resources.alertsQueueUrl, DEAD_LETTER_QUEUE_URL: resources.deadLetterQueueUrl };

    // Figures 1 and 2.
    say('figures 1-2: ingest requests per alert, ingest overhead');
    // The token as a value; no previous token (its SSM parameter would be read from AWS itself).
    const ingestEnv = lambdaLikeEnv(
      resolveEnvironment(fn('ingest').environment, { ...queues, WEBHOOK_TOKEN: TOKEN, WEBHOOK_TOKEN_PREVIOUS_PARAMETER: '' }),
      endpoints,
    );
    const ingest = await runWorker<Extract<IngestWorkerResult, { mode: 'requests-and-overhead' }>>(ingestWorker, ingestEnv, {
      mode: 'requests-and-overhead',
      bundlePath: fn('ingest').bundlePath,
      token: TOKEN,
      sqsProxy: aws.sqsEndpoint,
      minimumBundlePath: ingestMinimum,
      batchSizes: BENCH.ingestBatchSizes,
      roundsPerSize: BENCH.ingestRoundsPerSize,
      overheadBatchSize: BENCH.overheadBatchSize,
      warmupRounds: BENCH.overheadWarmupRounds,
      rounds: BENCH.overheadRounds,
    } satisfies IngestWorkerSettings);

    // Figure 6.
    say('figure 6: ingest peak memory, one fresh process per batch size');
    const largest = largestAcceptedBatch();
    const memory: (Omit<Extract<IngestWorkerResult, { mode: 'memory' }>, 'mode'> & { alerts: number })[] = [];
    const memorySizes = [...new Set(BENCH.memoryBatchSizes.map((size) => (size === 'largest-accepted' ? largest : size)))].sort(
      (a, b) => a - b,
    );
    for (const alerts of memorySizes) {
      const bodyFile = join(work, `body-${alerts}.json`);
      writeFileSync(bodyFile, webhookBody(makeAlerts(alerts)));
      const result = await runWorker<Extract<IngestWorkerResult, { mode: 'memory' }>>(ingestWorker, ingestEnv, {
        mode: 'memory',
        bundlePath: fn('ingest').bundlePath,
        token: TOKEN,
        bodyFile,
      } satisfies IngestWorkerSettings);
      const { mode: _mode, ...figures } = result;
      memory.push({ alerts, ...figures });
    }

    // Figures 3 and 4.
    say(`figures 3-4: deliver with Squadcast answering after ${BENCH.squadcastDelayMs} ms`);
    squadcast.setDelayMs(BENCH.squadcastDelayMs);
    const deliverEnv = lambdaLikeEnv(
      resolveEnvironment(fn('deliver').environment, {
        ...queues,
        LEDGER_TABLE_NAME: resources.ledgerTableName,
        SQUADCAST_WEBHOOK_URL: squadcast.url,
      }),
      endpoints,
    );
    const lifted = { SQUADCAST_MAX_PER_MINUTE: String(BENCH.liftedCeilingPerMinute) };
    const deliver = await runWorker<DeliverWorkerResult>(deliverWorker, { ...deliverEnv, ...lifted }, {
      mode: 'rounds',
      bundlePath: fn('deliver').bundlePath,
      minimumBundlePath: deliverMinimum,
      queueArn,
      sqsProxy: aws.sqsEndpoint,
      dynamodbProxy: aws.dynamodbEndpoint,
      squadcastUrl: squadcast.url,
      warmupRounds: BENCH.deliverWarmupRounds,
      rounds: BENCH.deliverRounds,
    } satisfies DeliverWorkerSettings);
    // The same, as serverless.yml configures it (rate ceiling on): a first batch in a fresh container.
    const firstBatch = { oneRecordMs: [] as number[], tenRecordsMs: [] as number[], failed: 0 };
    for (let run = 0; run < BENCH.firstBatchRuns; run++) {
      for (const records of [1, 10]) {
        const result = await runWorker<SingleBatchResult>(deliverWorker, deliverEnv, {
          mode: 'single-batch',
          bundlePath: fn('deliver').bundlePath,
          queueArn,
          records,
        } satisfies DeliverWorkerSettings);
        (records === 1 ? firstBatch.oneRecordMs : firstBatch.tenRecordsMs).push(result.ms);
        firstBatch.failed += result.failed;
      }
    }

    // Figure 5: nothing else runs meanwhile. Parameters stay SSM names, as in AWS (read on first invoke).
    say(`figure 5: cold start, ${BENCH.coldStartRuns} fresh processes per bundle`);
    const coldStart = [];
    for (const packaged of Object.values(pkg.functions)) {
      const name = packaged.name;
      const clients = FUNCTION_CLIENTS[name];
      if (clients === undefined)
        throw new Error(
          `bench/cold-start.ts: FUNCTION_CLIENTS names no SDK clients for function ${name}; add the clients it creates at init`,
        );
      const barePath = join(work, `bare-${name}.js`);
      const bareBytes = await buildBareBundle(barePath, pkg.esbuildOptions, clients.atInit);
      const allPath = join(work, `bare-all-${name}.js`);
      const allBytes =
        clients.later.length > 0 ? await buildBareBundle(allPath, pkg.esbuildOptions, clients.atInit, clients.later) : undefined;
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
      coldStart.push({ name, zipBytes: packaged.zipBytes, bundleBytes: packaged.bundleBytes, bareBytes, allBytes, clients, ...samples });
    }

    // Figure 7.
    say('figure 7: end to end through `npm start` (local/main.ts)');
    const endToEnd: EndToEndResult = await runEndToEnd({
      sqsEndpoint: aws.sqsEndpoint,
      dynamodbEndpoint: aws.dynamodbEndpoint,
      squadcast,
      squadcastDelayMs: BENCH.squadcastDelayMs,
      alertsPerPost: BENCH.endToEndAlertsPerPost,
      throughputAlerts: BENCH.endToEndThroughputAlerts,
      senders: BENCH.endToEndSenders,
      latencySeconds: BENCH.endToEndLatencySeconds,
      latencyLoadFraction: BENCH.endToEndLatencyLoadFraction,
      relayEnv: lifted,
    });
    const finalDynamoCounts = await fetchCounts(aws.dynamodbEndpoint);

    // ---- Derived figures ----
    const sqsBySize = ingest.bySize.map((row) => {
      const sent = row.sqsRequests.SendMessageBatch ?? 0;
      const measured = sent / row.accepted;
      const limit = minBatchRequestsPerMessage(row.alerts);
      return {
        alerts: row.alerts,
        accepted: row.accepted,
        statuses: row.statuses,
        requests: row.sqsRequests,
        billed: sumCounts(row.sqsBilledRequests),
        perAlert: measured,
        limit,
        ratio: measured / limit,
        medianMs: row.medianMs,
      };
    });
    const overhead = {
      alerts: BENCH.overheadBatchSize,
      rounds: ingest.overhead.handlerMs.length,
      handlerMedianMs: median(ingest.overhead.handlerMs),
      bareMedianMs: median(ingest.overhead.bareMs),
      ratio: medianRatio(ingest.overhead.handlerMs, ingest.overhead.bareMs),
      /** The same, split by which of the pair ran first (even rounds: the handler): shows any order effect. */
      ratioByOrder: ([0, 1] as const).map((parity) =>
        medianRatio(
          ingest.overhead.handlerMs.filter((_, i) => i % 2 === parity),
          ingest.overhead.bareMs.filter((_, i) => i % 2 === parity),
        ),
      ),
      handlerSqsRequests: ingest.overhead.handlerSqsRequests,
      bareSqsRequests: ingest.overhead.bareSqsRequests,
      target: TARGETS.ingestOverhead,
    };
    const parallelism = {
      squadcastDelayMs: BENCH.squadcastDelayMs,
      rounds: deliver.oneRecordMs.length,
      oneRecordMedianMs: median(deliver.oneRecordMs),
      tenRecordsMedianMs: median(deliver.tenRecordsMs),
      ratio: medianRatio(deliver.tenRecordsMs, deliver.oneRecordMs),
      target: TARGETS.deliveryParallelism,
      bareOneRecordMedianMs: median(deliver.bareOneRecordMs),
      bareTenRecordsMedianMs: median(deliver.bareTenRecordsMs),
      /** The same ratio for the bare minimum: the best these emulators allow. */
      bareRatio: medianRatio(deliver.bareTenRecordsMs, deliver.bareOneRecordMs),
      /** How far the handler's 10-record batch is from the bare minimum's. */
      tenRecordsVsBare: medianRatio(deliver.tenRecordsMs, deliver.bareTenRecordsMs),
      failedRecords: deliver.fresh.failedRecords,
      ceilingPerMinute: BENCH.liftedCeilingPerMinute,
      firstBatchAsConfigured: {
        runs: firstBatch.oneRecordMs.length,
        oneRecordMedianMs: median(firstBatch.oneRecordMs),
        tenRecordsMedianMs: median(firstBatch.tenRecordsMs),
        ratio: median(firstBatch.tenRecordsMs) / median(firstBatch.oneRecordMs),
        failedRecords: firstBatch.failed,
      },
    };
    const fresh = deliver.fresh;
    const writesPerAlert = perAlert((fresh.dynamodbRequests.PutItem ?? 0) + (fresh.dynamodbRequests.UpdateItem ?? 0), fresh.records);
    const wruPerWrite = Math.max(
      writeRequestUnits(finalDynamoCounts.maxRequestBytes.PutItem ?? 0),
      writeRequestUnits(finalDynamoCounts.maxRequestBytes.UpdateItem ?? 0),
    );
    /** Completing a delivery adds the item to the sparse `delivered-at` index: one more write unit. */
    const gsiWritesPerAlert = perAlert(fresh.dynamodbRequests.UpdateItem, fresh.records);
    const requestsPerAlert = {
      squadcastPostsPerAlert: perAlert(fresh.squadcastPosts, fresh.records),
      dynamodbRequestsPerAlert: perAlert(sumCounts(fresh.dynamodbRequests), fresh.records),
      dynamodbByOperation: Object.fromEntries(Object.entries(fresh.dynamodbRequests).map(([op, n]) => [op, n / fresh.records])),
      dynamodbDesignMinimum: 2,
      deliverSqsRequestsPerAlert: perAlert(sumCounts(fresh.sqsRequests), fresh.records),
      records: fresh.records,
      redelivered: {
        records: deliver.redelivered.records,
        squadcastPostsPerAlert: perAlert(deliver.redelivered.squadcastPosts, deliver.redelivered.records),
        dynamodbRequestsPerAlert: perAlert(sumCounts(deliver.redelivered.dynamodbRequests), deliver.redelivered.records),
        dynamodbByOperation: deliver.redelivered.dynamodbRequests,
      },
      pipeline: {
        alerts: endToEnd.throughputCounts.alerts,
        sqsRequestsPerAlert: Object.fromEntries(
          Object.entries(endToEnd.throughputCounts.sqsRequests).map(([op, n]) => [op, n / endToEnd.throughputCounts.alerts]),
        ),
        recordsPerReceive: endToEnd.throughputCounts.receivedMessages / endToEnd.throughputCounts.nonEmptyReceives,
        dynamodbRequestsPerAlert: perAlert(sumCounts(endToEnd.throughputCounts.dynamodbRequests), endToEnd.throughputCounts.alerts),
        squadcastPostsPerAlert: perAlert(endToEnd.throughputCounts.squadcastPosts, endToEnd.throughputCounts.alerts),
      },
      dynamodbWriteUnitsPerAlert: writesPerAlert * wruPerWrite + gsiWritesPerAlert,
    };
    const cold = coldStart.map((row) => {
      const [bareMs = [], allMs] = row.bareMs;
      return {
        name: row.name,
        clients: row.clients,
        zipBytes: row.zipBytes,
        bundleBytes: row.bundleBytes,
        bareBytes: row.bareBytes,
        runs: row.realMs.length,
        medianMs: median(row.realMs),
        bareMedianMs: median(bareMs),
        ratio: medianRatio(row.realMs, bareMs),
        target: TARGETS.coldStart,
        /** Against a bare bundle that also imports the clients the function needs after init (SSM). */
        withLaterClients:
          allMs === undefined ? undefined : { bundleBytes: row.allBytes, medianMs: median(allMs), ratio: medianRatio(row.realMs, allMs) },
      };
    });
    const accepted = memory.filter((row) => row.status === 202);
    const memorySlope =
      accepted.length >= 2
        ? slope(
            accepted.map((r) => r.bodyBytes),
            accepted.map((r) => r.peakRssBytes),
          )
        : undefined;
    const memoryFigure = {
      rows: memory,
      bodyLimitBytes: MAX_BODY_BYTES,
      largestAcceptedAlerts: largest,
      peakRssBytesPerBodyByte: memorySlope,
      lambdaMemoryMb: fn('ingest').memoryMb,
    };

    const tp = endToEnd.throughputCounts;
    const pollBilled = (tp.nonEmptyReceives + (tp.sqsBilledRequests.DeleteMessageBatch ?? 0)) / tp.alerts;
    const cost = [1, 10, 100].map((alertsPerPost) => {
      const size = sqsBySize.find((row) => row.alerts === alertsPerPost);
      if (size === undefined) throw new Error(`figure 1 did not measure ${alertsPerPost} alerts a POST`);
      const measured: MeasuredDesign = {
        alertsPerPost,
        ingestMs: size.medianMs,
        ingestSqsBilledPerAlert:
          (ingest.bySize.find((r) => r.alerts === alertsPerPost)?.sqsBilledRequests.SendMessageBatch ?? 0) / size.accepted,
        pollSqsBilledPerAlert: pollBilled,
        recordsPerInvocation: requestsPerAlert.pipeline.recordsPerReceive,
        deliverOneRecordMs: parallelism.oneRecordMedianMs,
        deliverTenRecordsMs: parallelism.tenRecordsMedianMs,
        dynamodbWriteUnitsPerAlert: requestsPerAlert.dynamodbWriteUnitsPerAlert,
        dynamodbReadUnitsPerAlert: perAlert(fresh.dynamodbRequests.GetItem, fresh.records),
        ingestMemoryMb: fn('ingest').memoryMb,
        deliverMemoryMb: fn('deliver').memoryMb,
      };
      const design = costPerMillionAlerts(usageOfDesign(measured), PRICES);
      const unbatched = costPerMillionAlerts(usageWithoutBatching(measured), PRICES);
      return { alertsPerPost, measured, design, withoutBatching: unbatched, saved: unbatched.total - design.total };
    });

    // ---- Report ----
    const finishedAt = new Date();
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    print(`Threat Stack → Squadcast relay: npm run bench, ${startedAt.toISOString()}`);
    print(`node ${process.version}, ${cpus().length} × ${cpu}; emulators fauxqs + dynalite on 127.0.0.1 behind counting proxies`);
    print(
      `bundles from \`serverless package\` (${pkg.seconds.toFixed(1)} s); every ratio below is measured side by side in this run, medians over rounds`,
    );
    print();
    print('1. SQS requests per accepted alert at ingest (SendMessageBatch, counted at the wire)');
    print(
      renderTable(
        ['alerts/POST', 'POSTs', 'HTTP', 'SendMessageBatch', 'per alert', 'limit ⌈n/10⌉/n', 'ratio', 'billed (64 KiB)'],
        sqsBySize.map((r) => [
          String(r.alerts),
          String(BENCH.ingestRoundsPerSize),
          r.statuses.join(','),
          String(r.requests.SendMessageBatch ?? 0),
          fixed(r.perAlert, 3),
          fixed(r.limit, 3),
          fixed(r.ratio),
          String(r.billed),
        ]),
      ),
    );
    print();
    print(`2. Ingest overhead: ${overhead.alerts} alerts, handler vs bare parallel SendMessageBatch, ${overhead.rounds} paired rounds`);
    print(
      `   handler p50 ${fixed(overhead.handlerMedianMs)} ms (${sumCounts(overhead.handlerSqsRequests)} SQS requests), bare p50 ${fixed(overhead.bareMedianMs)} ms (${sumCounts(overhead.bareSqsRequests)} SQS requests)`,
    );
    print(
      `   ratio ${fixed(overhead.ratio)} (median of paired ratios; handler first ${fixed(overhead.ratioByOrder[0])}, bare first ${fixed(overhead.ratioByOrder[1])}), target ≤ ${overhead.target}: ${verdict(overhead.ratio, overhead.target)}`,
    );
    print();
    print(
      `3. Delivery parallelism: Squadcast answers each POST after ${parallelism.squadcastDelayMs} ms, ${parallelism.rounds} paired rounds`,
    );
    print(
      `   1 record p50 ${fixed(parallelism.oneRecordMedianMs)} ms, 10 records p50 ${fixed(parallelism.tenRecordsMedianMs)} ms, failed records ${parallelism.failedRecords}`,
    );
    print(
      `   ratio ${fixed(parallelism.ratio)} (10 sequential POSTs ≈ 10), target ≤ ${parallelism.target}: ${verdict(parallelism.ratio, parallelism.target)}`,
    );
    print(
      `   bare minimum on the same emulators (claim, POST, record; records in parallel): 1 record p50 ${fixed(parallelism.bareOneRecordMedianMs)} ms, 10 records p50 ${fixed(parallelism.bareTenRecordsMedianMs)} ms, ratio ${fixed(parallelism.bareRatio)}`,
    );
    print(`   handler's 10-record batch vs the bare minimum's: ${fixed(parallelism.tenRecordsVsBare)}`);
    print(
      `   (rate ceiling lifted to ${BENCH.liftedCeilingPerMinute}/min. As serverless.yml configures it, a first batch in a fresh container:`,
    );
    print(
      `    1 record ${fixed(parallelism.firstBatchAsConfigured.oneRecordMedianMs)} ms, 10 records ${fixed(parallelism.firstBatchAsConfigured.tenRecordsMedianMs)} ms, ratio ${fixed(parallelism.firstBatchAsConfigured.ratio)}, medians of ${parallelism.firstBatchAsConfigured.runs})`,
    );
    print();
    print(`4. Requests per delivered alert (${requestsPerAlert.records} fresh alerts through deliver)`);
    print(
      renderTable(
        ['what', 'measured', 'limit'],
        [
          ['Squadcast POSTs per alert', fixed(requestsPerAlert.squadcastPostsPerAlert), '1.00'],
          [
            `DynamoDB requests per alert (${Object.entries(requestsPerAlert.dynamodbByOperation)
              .map(([op, n]) => `${op} ${fixed(n)}`)
              .join(', ')})`,
            fixed(requestsPerAlert.dynamodbRequestsPerAlert),
            `${fixed(requestsPerAlert.dynamodbDesignMinimum)} (claim + complete)`,
          ],
          ['SQS requests by deliver per alert', fixed(requestsPerAlert.deliverSqsRequestsPerAlert), '0.00'],
          [
            `redelivered alert: DynamoDB requests (${Object.keys(requestsPerAlert.redelivered.dynamodbByOperation).join(', ')})`,
            fixed(requestsPerAlert.redelivered.dynamodbRequestsPerAlert),
            '1.00 (refused claim)',
          ],
          ['redelivered alert: Squadcast POSTs', fixed(requestsPerAlert.redelivered.squadcastPostsPerAlert), '0.00'],
          [
            `whole pipeline, SQS per alert (${Object.entries(requestsPerAlert.pipeline.sqsRequestsPerAlert)
              .map(([op, n]) => `${op} ${fixed(n, 3)}`)
              .join(', ')})`,
            fixed(sumCounts(requestsPerAlert.pipeline.sqsRequestsPerAlert), 3),
            '0.300 (send, receive, delete in tens)',
          ],
          ['whole pipeline, records per non-empty receive', fixed(requestsPerAlert.pipeline.recordsPerReceive, 1), '10.0'],
          ['DynamoDB write units per alert (incl. the delivered-at index)', fixed(requestsPerAlert.dynamodbWriteUnitsPerAlert), '3.00'],
        ],
      ),
    );
    print();
    print(
      `5. Cold start: load + init of each packaged bundle in a fresh node process, ${BENCH.coldStartRuns} runs each, against bare bundles (same esbuild options)`,
    );
    print(
      '   bare = creates the SDK clients the function creates at init; bare+later = also imports those it needs on first invoke (SSM, for its secret)',
    );
    print(
      renderTable(
        [
          'function',
          'zip KiB',
          'bundle KiB',
          'load+init p50 ms',
          'bare clients',
          'bare KiB',
          'bare p50 ms',
          'ratio',
          `target ≤ ${TARGETS.coldStart}`,
          'bare+later KiB',
          'bare+later p50 ms',
          'ratio',
        ],
        cold.map((r) => [
          r.name,
          kib(r.zipBytes),
          kib(r.bundleBytes),
          fixed(r.medianMs, 1),
          r.clients.atInit.join('+'),
          kib(r.bareBytes),
          fixed(r.bareMedianMs, 1),
          fixed(r.ratio),
          r.ratio <= r.target ? 'met' : 'MISSED',
          r.withLaterClients?.bundleBytes === undefined ? '—' : kib(r.withLaterClients.bundleBytes),
          fixed(r.withLaterClients?.medianMs, 1),
          fixed(r.withLaterClients?.ratio),
        ]),
      ),
    );
    print();
    print(
      `6. Ingest memory: peak RSS handling one batch in a fresh process (body limit ${kib(MAX_BODY_BYTES)} KiB = ${largest} realistic alerts; Lambda memory ${memoryFigure.lambdaMemoryMb} MB)`,
    );
    print(
      renderTable(
        [
          'alerts',
          'body KiB',
          'HTTP',
          'RSS before MiB',
          'peak RSS MiB',
          'peak − before MiB',
          'growth / body bytes',
          'heap used ≤ MiB',
          'external ≤ MiB',
        ],
        memory.map((r) => [
          String(r.alerts),
          kib(r.bodyBytes),
          String(r.status),
          mib(r.rssBeforeBytes),
          mib(r.peakRssBytes),
          mib(r.peakRssBytes - r.rssBeforeBytes),
          fixed((r.peakRssBytes - r.rssBeforeBytes) / r.bodyBytes, 1),
          mib(r.sampled.heapUsedBytes),
          mib(r.sampled.externalBytes),
        ]),
      ),
    );
    print(
      `   slope over accepted batches: ${fixed(memorySlope, 1)} bytes of peak RSS per body byte (heap and external: highest seen by a 1 ms sampler)`,
    );
    print();
    print(`7. End to end through \`npm start\` (local/main.ts), Squadcast answering after ${BENCH.squadcastDelayMs} ms`);
    print(
      `   webhook accepted ${fixed(endToEnd.acceptedPerSecond, 0)} alerts/s; delivered ${fixed(endToEnd.deliveredPerSecond, 0)} alerts/s sustained (${tp.alerts} alerts, ${BENCH.endToEndSenders} senders, ${BENCH.endToEndAlertsPerPost} a POST)`,
    );
    print(
      `   delivery limit of the local poller (${LOCAL_POLLER.concurrency} pollers × ${LOCAL_POLLER.batchSize} records per ${BENCH.squadcastDelayMs} ms Squadcast answer): ${fixed(endToEnd.deliveryLimitPerSecond, 0)} alerts/s, reached ${fixed(endToEnd.deliveredPerSecond / endToEnd.deliveryLimitPerSecond)}`,
    );
    print(
      `   (the emulators serialize each record's claim and record, so the bare 10-record batch of figure 3 takes ${fixed(parallelism.bareTenRecordsMedianMs, 0)} ms, not ${BENCH.squadcastDelayMs})`,
    );
    print(
      `   202 → incident at Squadcast, at ${endToEnd.offeredPerSecond} alerts/s offered: p50 ${fixed(endToEnd.latencyMs.p50, 1)} ms, p99 ${fixed(endToEnd.latencyMs.p99, 1)} ms, max ${fixed(endToEnd.latencyMs.max, 1)} ms (${endToEnd.latencyMs.samples} alerts)`,
    );
    print();
    print(
      `8. Cost per million alerts at AWS list prices (${PRICES.region}, looked up ${PRICES.lookedUp}; bench/config.ts), free tiers ignored`,
    );
    print(
      renderTable(
        ['alerts/POST', 'API Gateway', 'Lambda', 'SQS', 'DynamoDB', 'this design', 'no batching', 'saved'],
        cost.map((c) => [
          String(c.alertsPerPost),
          dollars(c.design.apiGateway),
          dollars(c.design.lambda),
          dollars(c.design.sqs),
          dollars(c.design.dynamodb),
          dollars(c.design.total),
          dollars(c.withoutBatching.total),
          `${fixed((100 * c.saved) / c.withoutBatching.total, 0)} %`,
        ]),
      ),
    );
    print(
      '   no batching = one SendMessage per alert, and deliver with batch size 1 (one receive, delete and invocation per alert); same API Gateway and DynamoDB.',
    );
    print(
      "   Lambda time is this machine's measured handler time (emulators, fake Squadcast at 50 ms); idle long polls of the event source mapping are a fixed monthly cost, not counted.",
    );

    const results = {
      startedAt: startedAt.toISOString(),
      seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      machine: { node: process.version, cpus: cpus().length, cpu },
      settings: BENCH,
      targets: TARGETS,
      prices: PRICES,
      figures: {
        sqsRequestsPerAlert: sqsBySize,
        ingestOverhead: overhead,
        deliveryParallelism: parallelism,
        requestsPerDeliveredAlert: requestsPerAlert,
        coldStart: cold,
        memory: memoryFigure,
        endToEnd,
        cost,
      },
      raw: { ingest, deliver, firstBatch, coldStart },
    };
    mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    print();
    print(`took ${results.seconds.toFixed(0)} s; results as JSON: ${RESULTS}`);
    process.stdout.write(`${text.join('\n')}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
