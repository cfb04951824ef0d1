import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { FakeSquadcast } from '../../devkit/fake-squadcast';
import { startFakeSquadcast } from '../../devkit/fake-squadcast';
import { readCredentialsFile } from '../../local/credentials-file';
import type { LocalQueues } from '../../local/local-queues';
import { stopLocalStack } from '../helpers/emulators';
import type { RelayProcess } from '../helpers/local-processes';
import { eventually, runScript, startRelayProcess } from '../helpers/local-processes';

/**
 * `npm run redrive -- --local` against `npm start` on its embedded emulators, which have no
 * StartMessageMoveTask: dead letters are moved back by hand, the deliverable ones are delivered,
 * an invalid alert returns to the dead-letter queue, and a copy of an alert already delivered
 * (what a crash between the move's send and delete leaves behind) is absorbed by the ledger.
 */
const TOKEN = 'local-redrive-token-0123456789';
const PREFIX = 'local-redrive';

let squadcast: FakeSquadcast;
let relay: RelayProcess;
let refusing = true;
const dataDir = mkdtempSync(join(tmpdir(), 'relay-local-redrive-'));

type Status = { queue: { pending: number; deadLetter: number } };
const status = async (): Promise<Status> => (await (await fetch(`${relay.baseUrl}/status`)).json()) as Status;
const createdFor = (id: string): number =>
  squadcast.requests.filter((request) => (JSON.parse(request.body) as { event_id?: string }).event_id === id && !refusingAt.has(request))
    .length;
const refusingAt = new Set<object>();

const redrive = (args: string[]) => runScript('redrive', args);

const alert = (id: string): Record<string, unknown> => ({
  id,
  title: `Host:  redrive ${id}`,
  created_at: 1_700_000_000_000,
  severity: 2,
  organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
  server_or_region: 'web-1',
  source: 'Host',
});

beforeAll(async () => {
  squadcast = await startFakeSquadcast();
  // 401 while `refusing`: a permanent refusal, so deliver dead-letters the alert at once.
  squadcast.respondWith((request) => {
    if (!refusing) return { status: 202 };
    refusingAt.add(request);
    return { status: 401 };
  });
  relay = await startRelayProcess({
    AWS_ENDPOINT_URL_SQS: '',
    AWS_ENDPOINT_URL_DYNAMODB: '',
    WEBHOOK_TOKEN: TOKEN,
    SQUADCAST_WEBHOOK_URL: squadcast.url,
    LOCAL_RESOURCE_PREFIX: PREFIX,
    // A data directory, so that the local operations log (what was discarded, by whom, why) is kept.
    RELAY_DATA_DIR: dataDir,
  });
}, 150_000);

afterAll(async () => {
  await stopLocalStack({ relay, squadcast });
  rmSync(dataDir, { recursive: true, force: true });
});

test('dead letters go back by receive/send/delete; deliverable ones arrive once, an invalid one returns, a duplicate is absorbed', async () => {
  const ids = ['redrive-1', 'redrive-2', 'redrive-3'];
  const response = await fetch(`${relay.baseUrl}/threatstack/${TOKEN}`, {
    method: 'POST',
    // An element that is not an object cannot be an alert (a malformed object would page, degraded).
    body: JSON.stringify({ alerts: [...ids.map(alert), ['redrive-bad']] }),
  });
  expect(await response.json()).toMatchObject({ accepted: 3, rejected: 1 });
  await eventually('four dead letters', async () => (await status()).queue.deadLetter === 4);

  refusing = false;
  const port = new URL(relay.baseUrl).port;
  // The documented flow: a preview first. Without a terminal to confirm, it moves nothing, and hides nothing it showed.
  const preview = await redrive(['--local', '--port', port]);
  expect(preview.output).toContain(`${PREFIX}-dead-letter holds about 4 messages. They are:`);
  // Each line names its message id, which --discard takes.
  expect(preview.output).toMatch(/\n {2}- [0-9a-f-]{36} {2}alert redrive-1 /);
  expect(preview.output).toContain('Nothing moved. Run again with --yes to start the move.');
  expect(preview.code).toBe(1);
  expect((await status()).queue.deadLetter).toBe(4);
  const first = await redrive(['--local', '--port', port, '--yes']);
  expect(first.output).toContain(`${PREFIX}-dead-letter holds about 4 messages. They are:`);
  expect(first.output).toMatch(
    / {2}- [0-9a-f-]{36} {2}alert redrive-1 \(severity 2, "Host: {2}redrive redrive-1"\): deliver: Squadcast answered 401 at /,
  );
  expect(first.output).toContain('This SQS endpoint has no message move task (StartMessageMoveTask): moving them here, a batch at a time.');
  expect(first.output).toContain(`Moved 4 messages from ${PREFIX}-dead-letter to ${PREFIX}-alerts.`);
  expect(first.code).toBe(0);
  await eventually('the three alerts delivered', () => ids.every((id) => createdFor(id) === 1));
  // The invalid alert cannot be delivered as it is: it is back in the dead-letter queue.
  await eventually('only the invalid alert left', async () => {
    const { queue } = await status();
    return queue.pending === 0 && queue.deadLetter === 1;
  });

  // A copy of a delivered alert in the dead-letter queue, as a move interrupted between its send and its delete leaves it.
  // This machine's tools reach the embedded emulators with the per-start credentials in the file the relay names (never served).
  const local = (await (await fetch(`${relay.baseUrl}/local/queues`)).json()) as LocalQueues;
  expect(JSON.stringify(local)).not.toContain('secretAccessKey');
  const credentials = readCredentialsFile(local.credentialsFile ?? '');
  expect(statSync(local.credentialsFile ?? '').mode & 0o777).toBe(0o600);
  const sqs = new SQSClient({ region: local.region, credentials, endpoint: local.sqsEndpoint });
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${PREFIX}-dead-letter` }));
  await sqs.send(
    new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ alert: alert('redrive-2'), receivedAt: new Date().toISOString() }) }),
  );
  sqs.destroy();
  const second = await redrive(['--local', '--port', port, '--yes']);
  expect(second.output).toContain(`Moved 2 messages from ${PREFIX}-dead-letter to ${PREFIX}-alerts.`);
  await eventually('the copy handled', async () => {
    const { queue } = await status();
    return queue.pending === 0 && queue.deadLetter === 1;
  });
  expect(ids.map(createdFor)).toEqual([1, 1, 1]);

  // What is left cannot be delivered as it is: inspected (its reason and field path kept through two redrives), then settled.
  const listed = await runScript('dead-letters', ['--local', '--port', port, '--json']);
  expect(listed.code).toBe(0);
  const [left, ...more] = JSON.parse(listed.output.slice(listed.output.indexOf('['))) as Array<Record<string, unknown>>;
  expect(more).toEqual([]);
  expect(left).toMatchObject({
    kind: 'not an alert',
    reason: 'ingest: invalid alert',
    problems: ['alerts[3]: expected object'],
    earlierFailures: ['redriven 2 times, back each time'],
    redeliverable: false,
    // Finding 7: what is not an alert is shown, and kept in the discard's record below.
    content: '["redrive-bad"]',
  });
  expect((await status()).queue.deadLetter).toBe(1);
  const discard = await runScript('dead-letters', [
    '--local',
    '--port',
    port,
    '--discard',
    String(left?.messageId),
    '--reason',
    'a test post',
    '--yes',
  ]);
  expect(discard.output).toContain(`Discarded ${String(left?.messageId)}; recorded in ${join(dataDir, 'operations.log')}.`);
  expect(discard.code).toBe(0);
  await eventually('the dead-letter queue empty', async () => (await status()).queue.deadLetter === 0);
  expect(JSON.parse(readFileSync(join(dataDir, 'operations.log'), 'utf8').trim())).toMatchObject({
    action: 'dead letter discarded',
    reason: 'a test post',
    kind: 'not an alert',
    deadLetterReason: 'ingest: invalid alert',
    problems: ['alerts[3]: expected object'],
    content: left?.content,
  });
  expect(statSync(join(dataDir, 'operations.log')).mode & 0o777).toBe(0o600);
  expect(
    relay
      .output()
      .split('\n')
      .some((line) => line.includes('alert already delivered; not sent again') && line.includes('"alertId":"redrive-2"')),
  ).toBe(true);
  // Five operator commands, each a process of its own: minutes on a loaded machine, seconds on a quiet one.
}, 180_000);
