import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { fetchSquadcastPosts } from '../../devkit/fake-squadcast';
import { makeAlerts } from '../alerts';
import type { WireCounts } from '../counting-proxy';
import { fetchCounts } from '../counting-proxy';
import { diffCounts } from '../stats';
import { elapsedMs, loadHandler, readWorkerSettings, runWorker, settle, sqsEvent } from './worker-io';

export type DeliverWorkerSettings = RoundsSettings | SingleBatchSettings;

/** One batch of `records` fresh alerts in a fresh container: what a storm meets first. */
interface SingleBatchSettings {
  readonly mode: 'single-batch';
  readonly bundlePath: string;
  readonly queueArn: string;
  readonly records: number;
}

interface RoundsSettings {
  readonly mode: 'rounds';
  readonly bundlePath: string;
  /** bench/minimum/deliver-minimum.ts, bundled like the functions. */
  readonly minimumBundlePath: string;
  readonly queueArn: string;
  readonly sqsProxy: string;
  readonly dynamodbProxy: string;
  readonly squadcastUrl: string;
  readonly warmupRounds: number;
  readonly rounds: number;
}

/** Requests that crossed the wire while a set of records was delivered. */
export interface DeliveryCounts {
  readonly records: number;
  readonly squadcastPosts: number;
  readonly dynamodbRequests: Record<string, number>;
  readonly sqsRequests: Record<string, number>;
  readonly failedRecords: number;
}

export interface SingleBatchResult {
  readonly ms: number;
  readonly failed: number;
}

export interface DeliverWorkerResult {
  readonly oneRecordMs: readonly number[];
  readonly tenRecordsMs: readonly number[];
  /** The same batches through the bare minimum: what the emulators and the fake allow at best. */
  readonly bareOneRecordMs: readonly number[];
  readonly bareTenRecordsMs: readonly number[];
  /** Every measured handler call: fresh alerts, each claimed, posted and recorded once. */
  readonly fresh: DeliveryCounts;
  /** The last 10-record batch delivered again (an SQS redelivery of alerts already sent). */
  readonly redelivered: DeliveryCounts;
}

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;

interface Snapshot {
  readonly sqs: WireCounts;
  readonly dynamodb: WireCounts;
  readonly posts: number;
}

const sumDeliveryCounts = (all: readonly DeliveryCounts[]): DeliveryCounts => {
  const add = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
    const sum = { ...a };
    for (const [name, n] of Object.entries(b)) sum[name] = (sum[name] ?? 0) + n;
    return sum;
  };
  return all.reduce(
    (sum, c) => ({
      records: sum.records + c.records,
      squadcastPosts: sum.squadcastPosts + c.squadcastPosts,
      dynamodbRequests: add(sum.dynamodbRequests, c.dynamodbRequests),
      sqsRequests: add(sum.sqsRequests, c.sqsRequests),
      failedRecords: sum.failedRecords + c.failedRecords,
    }),
    { records: 0, squadcastPosts: 0, dynamodbRequests: {}, sqsRequests: {}, failedRecords: 0 },
  );
};

const singleBatch = async (settings: SingleBatchSettings): Promise<SingleBatchResult> => {
  const handler = loadHandler<Handler>(settings.bundlePath);
  const started = process.hrtime.bigint();
  const response = await handler(sqsEvent(makeAlerts(settings.records), settings.queueArn));
  return { ms: elapsedMs(started), failed: response.batchItemFailures.length };
};

const rounds = async (settings: RoundsSettings): Promise<DeliverWorkerResult> => {
  const handler = loadHandler<Handler>(settings.bundlePath);
  const snapshot = async (): Promise<Snapshot> => ({
    sqs: await fetchCounts(settings.sqsProxy),
    dynamodb: await fetchCounts(settings.dynamodbProxy),
    posts: await fetchSquadcastPosts(settings.squadcastUrl),
  });
  const countsSince = async (before: Snapshot, records: number, failedRecords: number): Promise<DeliveryCounts> => {
    const after = await snapshot();
    return {
      records,
      squadcastPosts: after.posts - before.posts,
      dynamodbRequests: diffCounts(after.dynamodb.requests, before.dynamodb.requests),
      sqsRequests: diffCounts(after.sqs.requests, before.sqs.requests),
      failedRecords,
    };
  };
  const deliver = async (event: SQSEvent): Promise<{ ms: number; failed: number }> => {
    const started = process.hrtime.bigint();
    const response = await handler(event);
    return { ms: elapsedMs(started), failed: response.batchItemFailures.length };
  };

  // Figure 3: 10-record against 1-record batches, through the handler and through the bare
  // minimum (claim, POST, record: three plain calls a record, records in parallel) on the same
  // emulators. Fresh alerts each time; the four run in an order that rotates every round.
  const minimum = loadHandler<(alerts: readonly Record<string, unknown>[]) => Promise<void>>(settings.minimumBundlePath);
  const bare = async (alerts: readonly Record<string, unknown>[]): Promise<number> => {
    const started = process.hrtime.bigint();
    await minimum(alerts);
    return elapsedMs(started);
  };
  for (let round = 0; round < settings.warmupRounds; round++) {
    await deliver(sqsEvent(makeAlerts(1), settings.queueArn));
    await deliver(sqsEvent(makeAlerts(10), settings.queueArn));
    await bare(makeAlerts(1));
    await bare(makeAlerts(10));
  }
  const oneRecordMs: number[] = [];
  const tenRecordsMs: number[] = [];
  const bareOneRecordMs: number[] = [];
  const bareTenRecordsMs: number[] = [];
  let lastTen: SQSEvent | undefined;
  const counted: DeliveryCounts[] = [];
  /** Only the handler's calls are counted: the bare minimum's requests are left out. */
  const deliverCounted = async (event: SQSEvent): Promise<number> => {
    const before = await snapshot();
    await settle();
    const result = await deliver(event);
    counted.push(await countsSince(before, event.Records.length, result.failed));
    return result.ms;
  };
  for (let round = 0; round < settings.rounds; round++) {
    const ten = sqsEvent(makeAlerts(10), settings.queueArn);
    lastTen = ten;
    const tasks = [
      async () => oneRecordMs.push(await deliverCounted(sqsEvent(makeAlerts(1), settings.queueArn))),
      async () => tenRecordsMs.push(await deliverCounted(ten)),
      async () => bareOneRecordMs.push(await settle().then(() => bare(makeAlerts(1)))),
      async () => bareTenRecordsMs.push(await settle().then(() => bare(makeAlerts(10)))),
    ];
    for (let i = 0; i < tasks.length; i++) await (tasks[(round + i) % tasks.length] as () => Promise<number>)();
  }
  const fresh = sumDeliveryCounts(counted);

  // Figure 4, second row: an SQS redelivery of alerts that were already delivered.
  const beforeRedelivery = await snapshot();
  const again = await deliver(lastTen ?? sqsEvent(makeAlerts(10), settings.queueArn));
  const redelivered = await countsSince(beforeRedelivery, 10, again.failed);
  return { oneRecordMs, tenRecordsMs, bareOneRecordMs, bareTenRecordsMs, fresh, redelivered };
};

runWorker(async () => {
  const settings = readWorkerSettings<DeliverWorkerSettings>();
  return settings.mode === 'single-batch' ? singleBatch(settings) : rounds(settings);
});
