import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { makeAlerts, wasAccepted, webhookBody } from '../alerts';
import { fetchCounts } from '../counting-proxy';
import { diffCounts, median } from '../stats';
import { elapsedMs, loadHandler, readWorkerSettings, runWorker, settle, webhookEvent } from './worker-io';

export type IngestWorkerSettings =
  | {
      readonly mode: 'requests-and-overhead';
      readonly bundlePath: string;
      readonly token: string;
      readonly sqsProxy: string;
      /** bench/minimum/ingest-minimum.ts, bundled like the functions. */
      readonly minimumBundlePath: string;
      readonly batchSizes: readonly number[];
      readonly roundsPerSize: number;
      readonly overheadBatchSize: number;
      readonly warmupRounds: number;
      readonly rounds: number;
    }
  | { readonly mode: 'memory'; readonly bundlePath: string; readonly token: string; readonly bodyFile: string };

export interface RequestsBySize {
  readonly alerts: number;
  readonly posts: number;
  readonly statuses: readonly number[];
  readonly accepted: number;
  /** SQS requests by operation over every post of this size. */
  readonly sqsRequests: Record<string, number>;
  readonly sqsBilledRequests: Record<string, number>;
  readonly medianMs: number;
}

export interface OverheadRounds {
  readonly handlerMs: readonly number[];
  readonly bareMs: readonly number[];
  readonly handlerSqsRequests: Record<string, number>;
  readonly bareSqsRequests: Record<string, number>;
}

export type IngestWorkerResult =
  | { readonly mode: 'requests-and-overhead'; readonly bySize: readonly RequestsBySize[]; readonly overhead: OverheadRounds }
  | {
      readonly mode: 'memory';
      readonly bodyBytes: number;
      readonly status: number;
      /** After loading the bundle and reading the body, garbage collected: where the invocation starts. */
      readonly rssBeforeBytes: number;
      /** High-water mark before the invocation (loading can peak above the settled RSS). */
      readonly peakRssBeforeBytes: number;
      readonly peakRssBytes: number;
      /** The invocation's wall time, and the CPU time this process spent in it (the work Lambda's CPU share slows down). */
      readonly handlerMs: number;
      readonly cpuMs: number;
      /** Highest V8 heap and external (Buffer) memory seen by a 1 ms sampler during the invocation. */
      readonly sampled: { readonly heapUsedBytes: number; readonly heapTotalBytes: number; readonly externalBytes: number };
    };

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

const acceptedCount = (result: APIGatewayProxyResult): number => {
  try {
    return Number((JSON.parse(result.body) as { accepted?: unknown }).accepted) || 0;
  } catch {
    return 0;
  }
};

const requestsAndOverhead = async (
  settings: Extract<IngestWorkerSettings, { mode: 'requests-and-overhead' }>,
): Promise<IngestWorkerResult> => {
  const handler = loadHandler<Handler>(settings.bundlePath);
  const post = (body: string): Promise<APIGatewayProxyResult> => handler(webhookEvent(body, settings.token));
  await post(webhookBody(makeAlerts(1))); // first invocation: resolves the token, opens a connection

  // Figure 1: requests at the wire per accepted alert, by batch size.
  const bySize: RequestsBySize[] = [];
  for (const size of settings.batchSizes) {
    const before = await fetchCounts(settings.sqsProxy);
    const statuses: number[] = [];
    const times: number[] = [];
    let accepted = 0;
    for (let round = 0; round < settings.roundsPerSize; round++) {
      const body = webhookBody(makeAlerts(size));
      const started = process.hrtime.bigint();
      const result = await post(body);
      times.push(elapsedMs(started));
      statuses.push(result.statusCode);
      accepted += acceptedCount(result);
    }
    const after = await fetchCounts(settings.sqsProxy);
    bySize.push({
      alerts: size,
      posts: settings.roundsPerSize,
      statuses: [...new Set(statuses)],
      accepted,
      sqsRequests: diffCounts(after.requests, before.requests),
      sqsBilledRequests: diffCounts(after.billedRequests, before.billedRequests),
      medianMs: median(times),
    });
  }

  // Figure 2: the handler against the bare minimum, same alerts, same emulator, order alternating.
  const bare = loadHandler<(body: string) => Promise<void>>(settings.minimumBundlePath);
  const handlerMs: number[] = [];
  const bareMs: number[] = [];
  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const started = process.hrtime.bigint();
    await fn();
    return elapsedMs(started);
  };
  let handlerSqsRequests: Record<string, number> = {};
  let bareSqsRequests: Record<string, number> = {};
  for (let round = 0; round < settings.warmupRounds + settings.rounds; round++) {
    const body = webhookBody(makeAlerts(settings.overheadBatchSize));
    const runHandler = async (): Promise<number> => {
      const before = await fetchCounts(settings.sqsProxy);
      await settle();
      const ms = await timed(async () => {
        const result = await post(body);
        if (!wasAccepted(result.statusCode)) throw new Error(`ingest answered ${result.statusCode}: ${result.body}`);
      });
      handlerSqsRequests = diffCounts((await fetchCounts(settings.sqsProxy)).requests, before.requests);
      return ms;
    };
    const runBare = async (): Promise<number> => {
      const before = await fetchCounts(settings.sqsProxy);
      await settle();
      const ms = await timed(() => bare(body));
      bareSqsRequests = diffCounts((await fetchCounts(settings.sqsProxy)).requests, before.requests);
      return ms;
    };
    let h: number;
    let b: number;
    if (round % 2 === 0) {
      h = await runHandler();
      b = await runBare();
    } else {
      b = await runBare();
      h = await runHandler();
    }
    if (round < settings.warmupRounds) continue;
    handlerMs.push(h);
    bareMs.push(b);
  }
  return { mode: 'requests-and-overhead', bySize, overhead: { handlerMs, bareMs, handlerSqsRequests, bareSqsRequests } };
};

/** Figure 6: one batch in a fresh process; the kernel's high-water mark of resident memory. */
const memory = async (settings: Extract<IngestWorkerSettings, { mode: 'memory' }>): Promise<IngestWorkerResult> => {
  const handler = loadHandler<Handler>(settings.bundlePath);
  const body = readFileSync(settings.bodyFile, 'utf8');
  const event = webhookEvent(body, settings.token);
  (globalThis as { gc?: () => void }).gc?.();
  const rssBeforeBytes = process.memoryUsage.rss();
  const peakRssBeforeBytes = process.resourceUsage().maxRSS * 1024;
  // Sampled every millisecond: what the resident memory is made of at its highest (approximate).
  const sampled = { heapUsedBytes: 0, heapTotalBytes: 0, externalBytes: 0 };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    sampled.heapUsedBytes = Math.max(sampled.heapUsedBytes, usage.heapUsed);
    sampled.heapTotalBytes = Math.max(sampled.heapTotalBytes, usage.heapTotal);
    sampled.externalBytes = Math.max(sampled.externalBytes, usage.external);
  }, 1);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const result = await handler(event);
  const cpu = process.cpuUsage(cpuBefore);
  const handlerMs = elapsedMs(started);
  clearInterval(sampler);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  return {
    mode: 'memory',
    bodyBytes: Buffer.byteLength(body),
    status: result.statusCode,
    rssBeforeBytes,
    peakRssBeforeBytes,
    peakRssBytes,
    handlerMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    sampled,
  };
};

runWorker(async () => {
  const settings = readWorkerSettings<IngestWorkerSettings>();
  return settings.mode === 'memory' ? memory(settings) : requestsAndOverhead(settings);
});
