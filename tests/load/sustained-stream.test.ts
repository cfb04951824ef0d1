import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ChaosSquadcast } from '../helpers/chaos-squadcast';
import { startChaosSquadcast } from '../helpers/chaos-squadcast';
import type { EmulatorClients } from '../helpers/emulators';
import { emulatorClients, stopLocalStack } from '../helpers/emulators';
import type { EmulatorProcess, RelayProcess } from '../helpers/local-processes';
import { relayEnv, startEmulatorProcess, startRelayProcess } from '../helpers/local-processes';

/**
 * A sustained stream through the local stack: BATCHES batches of BATCH_SIZE alerts, posted by four
 * senders as fast as the webhook accepts them, to a Squadcast that accepts everything at once.
 * Prints accepted/s and time-to-incident (POST sent → incident received); asserts only that
 * nothing is lost or sent twice. Timings are figures, not assertions: `npm run bench` owns
 * performance. The numbers describe this machine and the local emulators, not AWS.
 * `npm test` runs 20 batches (a few seconds); LOAD_BATCHES=100 runs the full 100 x 50 (about 40 s).
 */
const BATCHES = Number(process.env.LOAD_BATCHES ?? 20);
const BATCH_SIZE = 50;
const TOKEN = 'load-test-token-0123456789abcdef';
const PREFIX = 'load';

let emulators: EmulatorProcess;
let squadcast: ChaosSquadcast;
let relay: RelayProcess;
let sqs: SQSClient;
let clients: EmulatorClients;

beforeAll(async () => {
  [emulators, squadcast] = await Promise.all([
    startEmulatorProcess(),
    startChaosSquadcast({ key: 'LOAD-KEY-0f9e8d7c', seed: 1, odds: {}, refuses: () => false, slowMs: 0 }),
  ]);
  relay = await startRelayProcess({
    ...relayEnv(emulators, { token: TOKEN, squadcastUrl: squadcast.url, prefix: PREFIX }),
    // The ceiling is not under test here: far above what the local stack can send.
    SQUADCAST_MAX_PER_MINUTE: '1000000',
    DELIVERY_MAX_INVOCATIONS: '1',
    // Delivery logs one line an alert; INFO lines of 5000 deliveries are not what is measured.
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  clients = emulatorClients(emulators);
  ({ sqs } = clients);
}, 150_000);

afterAll(() => stopLocalStack({ clients, relay, emulators, squadcast }));

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};

test(`${BATCHES} batches of ${BATCH_SIZE} alerts as fast as the webhook takes them: every alert becomes one incident`, async () => {
  const postedAt = new Map<string, number>();
  const batches = Array.from({ length: BATCHES }, (_, b) =>
    Array.from({ length: BATCH_SIZE }, (_, i) => ({
      id: `load-${b}-${i}`,
      title: `Host:  load ${b}/${i}`,
      created_at: 1_700_000_000_000,
      severity: 1 + (i % 3),
      organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
      server_or_region: `web-${i}`,
      source: 'Host',
    })),
  );
  const started = Date.now();
  let accepted = 0;
  const work = [...batches];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let batch = work.shift(); batch !== undefined; batch = work.shift()) {
        const sentAt = Date.now();
        const response = await fetch(`${relay.baseUrl}/threatstack/${TOKEN}`, { method: 'POST', body: JSON.stringify({ alerts: batch }) });
        expect(response.status).toBe(200);
        accepted += ((await response.json()) as { accepted: number }).accepted;
        for (const alert of batch) postedAt.set(alert.id, sentAt);
      }
    }),
  );
  const postingMs = Date.now() - started;

  const total = BATCHES * BATCH_SIZE;
  const deadline = Date.now() + 120_000;
  const delivered = (): Set<string> => new Set(squadcast.requests.map((r) => r.eventId ?? ''));
  while (delivered().size < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const drainedMs = Date.now() - started;
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${PREFIX}-alerts` }));
  const pending = async (): Promise<number> => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  };
  // The last batch is deleted just after its incidents are sent.
  while ((await pending()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));

  const latencies = squadcast.requests.map((r) => r.receivedAt - (postedAt.get(r.eventId ?? '') ?? NaN));
  const perSecond = new Map<number, number>();
  for (const r of squadcast.requests)
    perSecond.set(Math.floor(r.receivedAt / 1000), (perSecond.get(Math.floor(r.receivedAt / 1000)) ?? 0) + 1);
  const lost = [...postedAt.keys()].filter((id) => !delivered().has(id)).length;
  const duplicates = squadcast.requests.length - delivered().size;
  console.log(
    `load: batches=${BATCHES}x${BATCH_SIZE} accepted=${accepted} postingSeconds=${(postingMs / 1000).toFixed(1)} accepted/s=${Math.round(accepted / (postingMs / 1000))}` +
      ` delivered=${delivered().size} delivered/s=${Math.round(delivered().size / (drainedMs / 1000))} timeToIncidentMs(p50/p99/max)=${percentile(latencies, 50)}/${percentile(latencies, 99)}/${Math.max(...latencies)}` +
      ` peakIncidentsPerSecond=${Math.max(...perSecond.values())} duplicates=${duplicates} lost=${lost} wallSeconds=${(drainedMs / 1000).toFixed(1)}`,
  );
  expect(accepted).toBe(total);
  expect(lost).toBe(0);
  expect(duplicates).toBe(0);
  expect(await pending()).toBe(0);
}, 180_000);
