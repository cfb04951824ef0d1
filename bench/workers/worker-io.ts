import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { webhookEvent as apiGatewayWebhookEvent } from '../../local/api-gateway-event';

/**
 * Shared by the benchmark's workers: plain `node` processes (bundled by bench/bundles.ts) that load
 * a function bundle exactly as `serverless package` built it, with its environment, and measure it.
 * The orchestrator passes the settings in BENCH_WORKER (JSON) and gets one result over IPC.
 */
export const readWorkerSettings = <T>(): T => {
  const raw = process.env.BENCH_WORKER;
  if (raw === undefined) throw new Error('BENCH_WORKER is not set: run workers through bench/run.ts');
  return JSON.parse(raw) as T;
};

export const reply = (result: unknown): void => {
  if (process.send === undefined) throw new Error('no IPC channel: run workers through bench/run.ts');
  process.send(result, () => process.exit(0));
};

export const runWorker = (main: () => Promise<unknown>): void => {
  main().then(reply, (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
};

/** Loads a bundle by path, at run time (the worker bundle must not inline it). */
export const loadModule = <M>(bundlePath: string): M => createRequire(__filename)(bundlePath) as M;

/** Loads a packaged handler by path, at run time. */
export const loadHandler = <H>(bundlePath: string): H => {
  const loaded = loadModule<{ handler?: H }>(bundlePath);
  if (loaded.handler === undefined) throw new Error(`${bundlePath} exports no handler`);
  return loaded.handler;
};

/** Threat Stack's first published address: what API Gateway would put in `sourceIp`. */
const THREAT_STACK_ADDRESS = '52.20.173.142';

/** The REST API (v1) proxy event API Gateway builds for POST /threatstack/{token}, from a Threat Stack address. */
export const webhookEvent = (body: string, token: string): APIGatewayProxyEvent =>
  apiGatewayWebhookEvent({ token, body, sourceIp: THREAT_STACK_ADDRESS, stage: 'bench', requestId: randomUUID() });

/** The SQS event Lambda's event source mapping builds, one record per alert, bodies as ingest queues them. */
export const sqsEvent = (alerts: readonly Record<string, unknown>[], queueArn: string): SQSEvent => ({
  Records: alerts.map((alert) => ({
    messageId: randomUUID(),
    receiptHandle: `bench-${randomUUID()}`,
    body: JSON.stringify({ alert, receivedAt: new Date().toISOString() }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  })),
});

export const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * Before each timed call: collect this process's garbage (workers run with --expose-gc) and pause,
 * so that neither the previous call's garbage nor the emulators' backlog lands on the next call.
 * Without it, whichever of a pair ran second measured ~20 % slower.
 */
export const settle = (ms = 25): Promise<void> => {
  (globalThis as { gc?: () => void }).gc?.();
  return new Promise((resolve) => setTimeout(resolve, ms));
};
