import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_ALERTS_PER_REQUEST, MAX_BODY_BYTES, MAX_ESCAPED_KEYS_PER_REQUEST } from '../lib/ingest/request-screen';
import { escapedKeyBody, escapedValueBody, makeAlerts, webhookBody } from './alerts';
import { bundleEntry } from './bundles';
import { BENCH } from './config';
import type { Harness } from './harness';
import { ingestEnv, runWorker, say, TOKEN } from './harness';
import type { IngestWorkerResult, IngestWorkerSettings } from './workers/ingest-worker';
import type { JsonTiming, JsonWorkerSettings } from './workers/json-worker';

/**
 * Figure 6's run: ingest's peak memory and time on one batch in a fresh process, by batch size and
 * shape, up to the worst batches it accepts; and the relay's JSON reader against JSON.parse.
 */

/**
 * Realistic alerts (bench/alerts.ts); or the worst cases for ingest's time: `tiny` ones
 * (`{"id":"<n>"}`), and alerts with as many escaped keys each as ingest takes (`escaped-keys`,
 * decoding to characters that need no escape; `backslash-keys`, to backslashes).
 */
export type MemoryShape = 'realistic' | 'tiny' | 'escaped-keys' | 'backslash-keys';
export type MemoryRow = Omit<Extract<IngestWorkerResult, { mode: 'memory' }>, 'mode'> & { alerts: number; shape: MemoryShape };
export interface MemoryRun {
  readonly rows: MemoryRow[];
  /** The largest batch of realistic alerts ingest takes (its body within the byte limit, its count within the alert limit). */
  readonly largestAccepted: number;
  /** parseJson ÷ JSON.parse on each body; undefined for a project without lib/common/json.ts. */
  readonly json: readonly JsonTiming[] | undefined;
}

/** Escaped keys per alert in the worst escaped-key batches ingest takes: its limit, spread over the most alerts. */
export const ESCAPED_KEYS_PER_ALERT = Math.floor(MAX_ESCAPED_KEYS_PER_REQUEST / MAX_ALERTS_PER_REQUEST);
/** Escaped keys per alert in the densest such body within 4 MiB (5000 alerts): over ingest's limit, read by parseJson alone. */
export const DENSEST_ESCAPED_KEYS_PER_ALERT = 60;
const JSON_ROUNDS = 9;

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

const tinyAlerts = (count: number): Record<string, unknown>[] => Array.from({ length: count }, (_, i) => ({ id: `tiny-${i}` }));

/**
 * The bodies of the worst cases, at the alert limit and one over it (for escaped keys, 4 over the
 * escaped-key limit, refused before the count of alerts is known).
 */
const worstBatches = () =>
  [MAX_ALERTS_PER_REQUEST, MAX_ALERTS_PER_REQUEST + 1].flatMap((alerts) => [
    { alerts, shape: 'tiny' as const, body: () => webhookBody(tinyAlerts(alerts)) },
    { alerts, shape: 'escaped-keys' as const, body: () => escapedKeyBody(alerts, ESCAPED_KEYS_PER_ALERT, 'unicode') },
    { alerts, shape: 'backslash-keys' as const, body: () => escapedKeyBody(alerts, ESCAPED_KEYS_PER_ALERT, 'backslash') },
  ]);

/** parseJson against JSON.parse, when the project has the reader: a plain, an escaped-value and both escaped-key bodies. */
const measureJson = async (h: Harness, largest: number): Promise<readonly JsonTiming[] | undefined> => {
  const source = join(h.root, 'lib', 'common', 'json.ts');
  if (!existsSync(source)) return undefined;
  const modulePath = join(h.work, `json-${h.slug}.js`);
  await bundleEntry(source, modulePath, { ...h.pkg.esbuildOptions, format: 'cjs' });
  const bodies = [
    { name: 'plain', body: webhookBody(makeAlerts(largest)) },
    { name: 'escaped values', body: escapedValueBody(largest) },
    { name: 'escaped keys', body: escapedKeyBody(MAX_ALERTS_PER_REQUEST, ESCAPED_KEYS_PER_ALERT, 'unicode') },
    { name: 'backslash keys', body: escapedKeyBody(MAX_ALERTS_PER_REQUEST, ESCAPED_KEYS_PER_ALERT, 'backslash') },
    {
      name: 'escaped keys, 60 an alert',
      body: escapedKeyBody(MAX_ALERTS_PER_REQUEST, DENSEST_ESCAPED_KEYS_PER_ALERT, 'unicode'),
      overIngestLimit: true,
    },
    {
      name: 'backslash keys, 60 an alert',
      body: escapedKeyBody(MAX_ALERTS_PER_REQUEST, DENSEST_ESCAPED_KEYS_PER_ALERT, 'backslash'),
      overIngestLimit: true,
    },
  ].map(({ name, body, overIngestLimit }, i) => {
    const file = join(h.work, `json-${i}.json`);
    writeFileSync(file, body);
    return { name, file, ...(overIngestLimit === true ? { overIngestLimit } : {}) };
  });
  return runWorker<JsonTiming[]>(h.jsonWorker, { PATH: process.env.PATH }, {
    modulePath,
    bodies,
    rounds: JSON_ROUNDS,
  } satisfies JsonWorkerSettings);
};

export const measureMemory = async (h: Harness): Promise<MemoryRun> => {
  say('figure 6: ingest peak memory and the worst-case batches, one fresh process per batch; parseJson against JSON.parse');
  const largest = largestAcceptedBatch();
  const sizes = [...new Set(BENCH.memoryBatchSizes.map((size) => (size === 'largest-accepted' ? largest : size)))].sort((a, b) => a - b);
  const batches = [
    ...sizes.map((alerts) => ({ alerts, shape: 'realistic' as const, body: () => webhookBody(makeAlerts(alerts)) })),
    ...worstBatches(),
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
  return { rows, largestAccepted: largest, json: await measureJson(h, largest) };
};
