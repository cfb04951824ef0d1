import { readFileSync } from 'node:fs';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { makeAlerts, webhookBody } from '../alerts';
import { fetchCounts } from '../counting-proxy';
import { diffCounts, median } from '../stats';
import { elapsedMs, loadHandler, readWorkerSettings, runWorker, webhookEvent } from './worker-io';

export type IngestWorkerSettings =
  | { readonly mode: 'requests-and-overhead'; readonly bundlePath: string; readonly token: string; readonly sqsProxy: string; readonly alertsQueueUrl: string; readonly batchSizes: readonly number[]; readonly roundsPerSize: number; readonly overheadBatchSize: number; readonly warmupRounds: number; readonly rounds: number }
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
  | { readonly mode: 'memory'; readonly bodyBytes: number; readonly status: number; readonly rssBeforeBytes: number; readonly peakRssBeforeBytes: number; readonly peakRssBytes: number };

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

const acceptedCount = (result: APIGatewayProxyResult): number => {
  try {
    return Number((JSON.parse(result.body) as { accepted?: unknown }).accepted) || 0;
  } catch {
    return 0;
  }
};

/**
 * The bare minimum for comparison: read the body, wrap each alert as the queue expects it, and send
 * the messages with parallel SendMessageBatch calls of ten. No authentication, no validation.
 */
const createBareIngest = (queueUrl: string): ((body: string) => Promise<void>) => {
  const sqs = new SQSClient({});
  return async (body) => {
    const { alerts } = JSON.parse(body) as { alerts: unknown[] };
    const receivedAt = new Date().toISOString();
    const messages = alerts.map((alert) => JSON.stringify({ alert, receivedAt }));
    const chunks: string[][] = [];
    for (let i = 0; i < messages.length; i += 10) chunks.push(messages.slice(i, i + 10));
    await Promise.all(
      chunks.map((chunk) =>
        sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((message, index) => ({ Id: String(index), MessageBody: message })) })),
      ),
    );
  };
};

const requestsAndOverhead = async (settings: Extract<IngestWorkerSettings, { mode: 'requests-and-overhead' }>): Promise<IngestWorkerResult> => {
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
  const bare = createBareIngest(settings.alertsQueueUrl);
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
      const ms = await timed(async () => {
        const result = await post(body);
        if (result.statusCode !== 202) throw new Error(`ingest answered ${result.statusCode}: ${result.body}`);
      });
      handlerSqsRequests = diffCounts((await fetchCounts(settings.sqsProxy)).requests, before.requests);
      return ms;
    };
    const runBare = async (): Promise<number> => {
      const before = await fetchCounts(settings.sqsProxy);
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
  const result = await handler(event);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  return { mode: 'memory', bodyBytes: Buffer.byteLength(body), status: result.statusCode, rssBeforeBytes, peakRssBeforeBytes, peakRssBytes };
};

runWorker(async () => {
  const settings = readWorkerSettings<IngestWorkerSettings>();
  return settings.mode === 'memory' ? memory(settings) : requestsAndOverhead(settings);
});
