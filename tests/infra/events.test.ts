// events/: a ready console test event for every function, each documented, each giving the
// answer events/README.md promises when the function runs on it (here with in-memory ports).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';

import { Secret } from '../../lib/common/secret';
import { deliverBatch } from '../../lib/delivery/deliver-batch';
import { toBatchResponse, toQueueRecord } from '../../lib/delivery/sqs-event';
import { handleIngestEvent } from '../../lib/ingest/handle-ingest-event';
import type { IngestDeps } from '../../lib/ingest/ingest-webhook';
import { sendTestAlert } from '../../lib/test-alert/test-alert';
import {
  CapturingLogger,
  FakeIncidentSink,
  FakeLedger,
  FakeMessageQueue,
  FakeRetryScheduler,
  inertDeliverDeps,
  ingestHarness,
} from '../helpers/fakes';

const root = resolve(__dirname, '../..');
const eventsDir = join(root, 'events');
const readEvent = <T>(file: string): T => JSON.parse(readFileSync(join(eventsDir, file), 'utf8')) as T;
const readme = readFileSync(join(eventsDir, 'README.md'), 'utf8');
const TOKEN = 'the-real-webhook-token-0123';

/** serverless.yml's function keys and handler files. */
const functions = [
  ...readFileSync(join(root, 'serverless.yml'), 'utf8').matchAll(/^ {2}(\w+):\n(?: {4}#.*\n)* {4}handler: handlers\/([\w-]+)\.handler$/gm),
].map((m) => ({
  key: m[1] ?? '',
  file: m[2] ?? '',
}));

const ingestDeps = (alerts: FakeMessageQueue, log = new CapturingLogger()): IngestDeps =>
  ingestHarness({ token: new Secret(TOKEN), alerts, log, now: () => new Date() }).deps;

describe('events/', () => {
  it('has a documented event for every function in serverless.yml', () => {
    expect(functions.map((f) => f.key).sort()).toEqual(['deadLetterWatch', 'deliver', 'ingest', 'status', 'testAlert']);
    for (const { key, file } of functions) {
      expect(readdirSync(eventsDir)).toContain(`${file}.json`);
      expect(readme).toMatch(new RegExp(`\\| \`${file}\\.json\` \\| \`${key}\` \\|`));
    }
  });

  it('documents every file it holds', () => {
    for (const file of readdirSync(eventsDir).filter((f) => f.endsWith('.json'))) expect(readme).toContain(`\`${file}\``);
  });

  it('ingest.json: a placeholder token is refused with 403; the real token queues its one labelled test alert (200)', async () => {
    const event = readEvent<APIGatewayProxyEvent>('ingest.json');
    const refusedQueue = new FakeMessageQueue();
    const refused = await handleIngestEvent(event, async () => ingestDeps(refusedQueue), new CapturingLogger());
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({ error: 'forbidden' });
    expect(refusedQueue.calls).toEqual([]);

    const withToken = JSON.parse(JSON.stringify(event).replaceAll('REPLACE-WITH-THE-WEBHOOK-TOKEN', TOKEN)) as APIGatewayProxyEvent;
    const alerts = new FakeMessageQueue();
    const accepted = await handleIngestEvent(withToken, async () => ingestDeps(alerts), new CapturingLogger());
    expect(accepted.statusCode).toBe(200);
    expect(JSON.parse(accepted.body)).toEqual({ accepted: 1, rejected: 0, duplicates: 0 });
    expect(alerts.bodies<{ alert: { title: string } }>().map((b) => b.alert.title)).toEqual([
      'TEST ALERT (Lambda console, ingest) from threatstack-squadcast-relay',
    ]);
  });

  it('deliver.json: its record is delivered as a labelled test incident and nothing is left to retry', async () => {
    const event = readEvent<SQSEvent>('deliver.json');
    const sink = new FakeIncidentSink();
    const result = await deliverBatch(event.Records.map(toQueueRecord), {
      ...inertDeliverDeps(),
      sink,
      ledger: new FakeLedger(),
      deadLetters: new FakeMessageQueue(),
      retries: new FakeRetryScheduler(),
      retryPolicy: { baseSeconds: 1, maxSeconds: 1, giveUpSeconds: 86_400, inFlightSeconds: 1 },
      concurrency: 1,
      log: new CapturingLogger(),
      now: () => new Date(),
    });
    expect(toBatchResponse(result)).toEqual({ batchItemFailures: [] });
    expect(sink.sent).toEqual([
      expect.objectContaining({
        message: 'TEST ALERT (Lambda console, deliver) from threatstack-squadcast-relay',
        priority: 'P3',
        event_id: 'console-test-deliver-0001',
      }),
    ]);
  });

  it('deliver.json carries no queue time: a Squadcast failure during a console test is retried, never dead-lettered', async () => {
    const event = readEvent<SQSEvent>('deliver.json');
    expect(event.Records[0]?.attributes).not.toHaveProperty('SentTimestamp');
    const deadLetters = new FakeMessageQueue();
    const result = await deliverBatch(event.Records.map(toQueueRecord), {
      ...inertDeliverDeps(),
      sink: new FakeIncidentSink().answer({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' }),
      ledger: new FakeLedger(),
      deadLetters,
      retries: new FakeRetryScheduler(),
      retryPolicy: { baseSeconds: 1, maxSeconds: 1, giveUpSeconds: 3_600, inFlightSeconds: 1 },
      concurrency: 1,
      log: new CapturingLogger(),
      now: () => new Date(),
    });
    expect(toBatchResponse(result)).toEqual({ batchItemFailures: [{ itemIdentifier: '00000000-0000-4000-8000-000000000001' }] });
    expect(deadLetters.bodies()).toEqual([]);
  });

  it.each([
    ['test-alert.json', 3],
    ['test-alert-high.json', 1],
  ])('%s: one test alert of severity %p', async (file, severity) => {
    const sent: string[] = [];
    const result = await sendTestAlert(readEvent(file), {
      alerts: {
        send: async (message) => {
          sent.push(message.body);
          return { messageId: 'm-1' };
        },
      },
      queueName: 'alerts',
      stage: 'dev',
      log: new CapturingLogger(),
      now: () => new Date(),
    });
    expect(result).toMatchObject({ sent: true, severity });
    expect(sent).toHaveLength(1);
  });

  it('status.json is an empty object (the function ignores its event)', () => {
    expect(readEvent('status.json')).toEqual({});
  });
});
