import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { FakeSquadcast } from '../../devkit/fake-squadcast';
import type { DeadLettersDeps } from '../../scripts/dead-letters';
import type { EmulatorClients } from '../helpers/emulators';
import { emulatorClients, stopLocalStack } from '../helpers/emulators';
import type { EmulatorProcess, RelayProcess } from '../helpers/local-processes';
import { eventually, startRelayOnFakes } from '../helpers/local-processes';

/**
 * The relay end to end, as `npm start` runs it: real handlers in their own process, the SQS and
 * DynamoDB emulators spoken to over their real protocols, and a fake Squadcast on 127.0.0.1.
 */
const TOKEN = 'integration-token-0123456789';
const PREFIX = 'relay-it';

let emulators: EmulatorProcess;
let squadcast: FakeSquadcast;
let relay: RelayProcess;
let sqs: SQSClient;
let dynamodb: DynamoDBClient;
let clients: EmulatorClients;

type Incident = { message: string; description: string; tags: Record<string, unknown>; priority: string; status: string; event_id: string };
const incidents = (): Incident[] => squadcast.requests.map((request) => JSON.parse(request.body) as Incident);
/** Every incident of an alert id: its first version's event_id is the id, a later version's `<id>~<version>`. */
const incidentsFor = (id: string): Incident[] =>
  incidents().filter((incident) => incident.event_id === id || incident.event_id.startsWith(`${id}~`));

const alert = (id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  title: `Host:  suspicious login ${id}`,
  created_at: 1_700_000_000_123,
  severity: 1,
  organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
  server_or_region: 'web-1',
  source: 'Host',
  ...overrides,
});

const post = async (body: unknown, token = TOKEN): Promise<{ status: number; json: Record<string, unknown> }> => {
  const response = await fetch(`${relay.baseUrl}/threatstack/${token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
};

type Status = {
  active: boolean;
  lastIncidentAt: string | null;
  incidentsLast30Days: number;
  queue: { pending: number; deadLetter: number };
};
const status = async (): Promise<Status> => (await (await fetch(`${relay.baseUrl}/status`)).json()) as Status;

const drained = async (): Promise<boolean> => (await status()).queue.pending === 0;

const deadLetters = async (): Promise<Array<Record<string, unknown>>> => {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${PREFIX}-dead-letter` }));
  const seen: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 5; i++) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) break;
    seen.push(...Messages.map((message) => JSON.parse(message.Body ?? '{}') as Record<string, unknown>));
  }
  return seen;
};

beforeAll(async () => {
  ({ emulators, squadcast, relay } = await startRelayOnFakes(
    { token: TOKEN, prefix: PREFIX },
    {
      LOCAL_VISIBILITY_TIMEOUT_SECONDS: '5',
      LOCAL_MAX_RECEIVE_COUNT: '5',
      DELIVERY_RETRY_BASE_SECONDS: '1',
      DELIVERY_RETRY_MAX_SECONDS: '1',
      SQUADCAST_TIMEOUT_MS: '2000',
    },
  ));
  clients = emulatorClients(emulators);
  ({ sqs, dynamodb } = clients);
}, 150_000);

afterAll(() => stopLocalStack({ clients, relay, emulators, squadcast }));

test('the source is inactive before any incident', async () => {
  expect(await status()).toMatchObject({
    active: false,
    lastIncidentAt: null,
    incidentsLast30Days: 0,
    queue: { pending: 0, deadLetter: 0 },
  });
});

test('a batch in: one incident per alert out, mapped as documented, and the status turns active', async () => {
  const batch = {
    alerts: [
      alert('batch-a', { severity: 1, source: 'CloudTrail', server_or_region: 'us-east-1', organization_name: 'Example Corp' }),
      alert('batch-b', { severity: '2', created_at: '1700000004567' }),
      alert('batch-c', { severity: 3, extra_field: 'kept' }),
    ],
  };
  const posted = Date.now();
  const answer = await post(batch);
  expect(answer).toEqual({ status: 200, json: { accepted: 3, rejected: 0, duplicates: 0 } });

  await eventually('three incidents', () => incidents().length >= 3);
  expect(squadcast.requests.every((request) => request.headers['content-type'] === 'application/json')).toBe(true);
  const [a] = incidentsFor('batch-a');
  expect(a).toMatchObject({
    message: 'Host:  suspicious login batch-a',
    priority: 'P1',
    status: 'trigger',
    event_id: 'batch-a',
    // Every tag, as tests/unit/incident/to-incident.test.ts maps them; here, that the mapping reached Squadcast.
    tags: expect.objectContaining({
      severity: { value: 'high', color: '#d32f2f' },
      source: 'CloudTrail',
      organization_name: 'Example Corp',
    }),
  });
  expect(a?.description).toContain('| Created at | `2023-11-14T22:13:20.123Z` |');
  expect(incidentsFor('batch-b')[0]).toMatchObject({ priority: 'P2', tags: { severity: { value: 'medium' } } });
  expect(incidentsFor('batch-c')[0]).toMatchObject({ priority: 'P3', tags: { severity: { value: 'low' } } });
  expect(incidentsFor('batch-c')[0]?.description).toContain('| extra_field |');

  await eventually('queue drained', drained);
  const after = await status();
  expect(after.active).toBe(true);
  expect(after.incidentsLast30Days).toBe(3);
  // Recorded after the batch was posted, and before the status was read: an order, not a speed.
  expect(Date.parse(after.lastIncidentAt ?? '')).toBeGreaterThanOrEqual(posted);
  expect(Date.parse(after.lastIncidentAt ?? '')).toBeLessThanOrEqual(Date.now());

  // Recorded in DynamoDB, keyed on the alert id, with a 30-day TTL.
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: `${PREFIX}-ledger`, Key: { pk: { S: 'alert#batch-a' } } }));
  expect(Item?.state?.S).toBe('delivered');
  const ttlDays = (Number(Item?.expiresAt?.N) * 1000 - Date.parse(Item?.deliveredAt?.S ?? '')) / 86_400_000;
  expect(ttlDays).toBeCloseTo(30, 2);
});

test('a batch sent 4 times (Threat Stack resends a batch up to 3 times) is answered 200 each time and pages once per alert', async () => {
  const batch = { alerts: [alert('again-a'), alert('again-b')] };
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await post(batch));
  expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
  expect(answers.every((answer) => answer.json.accepted === 2)).toBe(true);
  await eventually('delivered', () => incidentsFor('again-a').length === 1 && incidentsFor('again-b').length === 1);
  await eventually('queue drained', drained);
  expect(incidentsFor('again-a')).toHaveLength(1);
  expect(incidentsFor('again-b')).toHaveLength(1);
  // The resends really reached deliver: it logged them as already delivered.
  await eventually('duplicates logged', () => (relay.output().match(/already delivered[^\n]*"again-a"/g) ?? []).length === 3);
});

test('the same id with other content pages again, saying what changed; sent again as it was, it does not', async () => {
  const first = alert('reused-id', { severity: 3, title: 'Host: a login' });
  expect((await post({ alerts: [first] })).status).toBe(200);
  await eventually('the first version delivered', () => incidentsFor('reused-id').length === 1);
  await eventually('queue drained', drained);

  // Threat Stack raises the severity under the same id, and sends the batch twice; the first version comes again too.
  const raised = { ...first, severity: 1, title: 'Host: a root login' };
  expect((await post({ alerts: [raised, raised] })).status).toBe(200);
  await eventually('the raised version delivered', () => incidentsFor('reused-id').length === 2);
  expect((await post({ alerts: [raised, first] })).status).toBe(200);
  await eventually('queue drained again', drained);

  const [firstIncident, second, ...more] = incidentsFor('reused-id');
  expect(more).toEqual([]);
  expect(second).toMatchObject({ priority: 'P1', message: 'Host: a root login' });
  // Finding 2: an event_id Key-Based Deduplication cannot fold into the first incident; both tagged with the id.
  expect([firstIncident?.event_id, second?.event_id]).toEqual(['reused-id', expect.stringMatching(/^reused-id~[0-9a-f]{12}$/)]);
  expect([firstIncident?.tags.alert_id, second?.tags.alert_id]).toEqual(['reused-id', 'reused-id']);
  expect(second?.description).toMatch(
    /\*\*This alert reuses the id of an earlier alert\*\*, delivered at `[^`]+`\. Changed since then: title, severity\./,
  );
});

test('Squadcast answering 500 then 200: delivered exactly once', async () => {
  let calls = 0;
  squadcast.respondWith((request) => (request.body.includes('"event_id":"flaky-1"') && calls++ === 0 ? { status: 500 } : { status: 202 }));
  expect((await post({ alerts: [alert('flaky-1')] })).status).toBe(200);
  await eventually('retried and delivered', async () => calls === 2 && (await drained()));
  // Two POSTs: the first answered 500, the second 202. One incident exists; nothing was dead-lettered.
  expect(incidentsFor('flaky-1')).toHaveLength(2);
  expect((await status()).queue.deadLetter).toBe(0);
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: `${PREFIX}-ledger`, Key: { pk: { S: 'alert#flaky-1' } } }));
  expect(Item?.state?.S).toBe('delivered');
  squadcast.respondWith(() => ({ status: 202 }));
});

test('Squadcast answering 413: the alert goes to the dead-letter queue with the reason, without retries', async () => {
  squadcast.respondWith((request) => (request.body.includes('"event_id":"too-big-1"') ? { status: 413 } : { status: 202 }));
  expect((await post({ alerts: [alert('too-big-1')] })).status).toBe(200);
  await eventually('dead-lettered', async () => (await status()).queue.deadLetter === 1 && (await drained()));
  expect(incidentsFor('too-big-1')).toHaveLength(1);
  const letters = await deadLetters();
  expect(letters).toEqual([
    expect.objectContaining({
      alert: expect.objectContaining({ id: 'too-big-1' }),
      failure: expect.objectContaining({ stage: 'deliver', reason: 'Squadcast answered 413' }),
    }),
  ]);
  squadcast.respondWith(() => ({ status: 202 }));
});

test('Squadcast failing an alert on every receive: the queue moves it (LOCAL_MAX_RECEIVE_COUNT=5), one line says so, and dead-letters gives the reason', async () => {
  squadcast.respondWith((request) => (request.body.includes('"event_id":"stuck-1"') ? { status: 500 } : { status: 202 }));
  expect((await post({ alerts: [alert('stuck-1')] })).status).toBe(200);
  await eventually('the line on the last receive', () => relay.output().includes('[local] dead-letter: alert "stuck-1"'));
  const line = relay
    .output()
    .split('\n')
    .find((l) => l.includes('[local] dead-letter: alert "stuck-1"'));
  expect(line).toContain('failed on its last receive (LOCAL_MAX_RECEIVE_COUNT=5)');
  expect(line).toContain('Reason: Squadcast answered 500.');
  expect(incidentsFor('stuck-1')).toHaveLength(5);
  // The status answers what the ledger kept of it.
  const asked = (await (await fetch(`${relay.baseUrl}/status?alert=stuck-1`)).json()) as { alert: Record<string, unknown> };
  expect(asked.alert).toMatchObject({ id: 'stuck-1', state: 'failed', lastFailure: 'Squadcast answered 500' });
  // The queue moves it at its next receive; `npm run dead-letters -- --local` names the reason that applied.
  // The CLI as a person runs it against this relay, with the emulators' credentials (a person's environment has them).
  const { run } = await import('../../scripts/dead-letters');
  const deps: DeadLettersDeps = {
    sqs: (config) => new SQSClient({ ...config, credentials: emulators.credentials }),
    lambda: () => {
      throw new Error('--local asks the local status, never Lambda');
    },
    fetch,
    region: async () => ({ region: 'us-east-1', from: 'test' }),
    operationsLog: () => ({ record: async () => 'unused' }),
    who: () => 'test',
  };
  const listed = async (): Promise<string> => {
    const lines: string[] = [];
    await run(['--local', '--port', new URL(relay.baseUrl).port], { out: (line: string) => lines.push(line), err: () => undefined }, deps);
    return lines.join('\n');
  };
  await eventually('moved to the dead-letter queue', async () => (await listed()).includes('alert stuck-1'));
  expect(await listed()).toContain(
    'alert stuck-1 (severity 1, "Host:  suspicious login stuck-1"): moved here by the queue after 5 receives; its last failed send: Squadcast answered 500',
  );
  squadcast.respondWith(() => ({ status: 202 }));
});

test('a mixed batch: the valid alert and the malformed one both page; what is not an alert is dead-lettered with its path', async () => {
  const answer = await post({ alerts: [alert('mixed-ok'), { id: 'mixed-bad', severity: 'urgent' }, 'mixed-junk'] });
  expect(answer).toEqual({ status: 200, json: { accepted: 2, degraded: 1, rejected: 1, duplicates: 0 } });
  await eventually('both delivered', () => incidentsFor('mixed-ok').length === 1 && incidentsFor('mixed-bad').length === 1);
  expect(incidentsFor('mixed-bad')[0]).toMatchObject({ priority: 'P1', tags: { severity: { value: 'unknown' } } });
  expect(incidentsFor('mixed-bad')[0]?.description).toContain('| Severity | Unknown: `"urgent"` as sent |');
  const letters = await deadLetters();
  const rejected = letters.find((letter) => letter.raw === 'mixed-junk');
  expect(rejected).toMatchObject({ failure: { stage: 'ingest', reason: 'invalid alert', problems: ['alerts[2]: expected object'] } });
});

test('refusals: a wrong token is 403 with the generic body; a body that is not JSON is 400 with no echo', async () => {
  expect(await post({ alerts: [] }, 'wrong-token-0123456789')).toEqual({ status: 403, json: { error: 'forbidden' } });
  const response = await fetch(`${relay.baseUrl}/threatstack/${TOKEN}`, { method: 'POST', body: '{"alerts": [SENTINEL-VALUE' });
  expect(response.status).toBe(400);
  const text = await response.text();
  expect(JSON.parse(text)).toEqual({ error: 'body is not valid JSON', problems: [] });
  expect(text).not.toContain('SENTINEL');
  expect(await post({ alerts: [] })).toEqual({ status: 200, json: { accepted: 0, rejected: 0, duplicates: 0 } });
});

test('finding 1: an alert body with a list beside it pages as itself (P1), and each object of the list; "oops" is dead-lettered', async () => {
  const root = { id: 'root-1', title: 'ROOT ALERT sev1', severity: 1, created_at: 1_700_000_000_000 };
  const lettersBefore = (await status()).queue.deadLetter;
  const answer = await post({ ...root, alerts: ['oops', { note: 'x' }] });
  expect(answer).toEqual({ status: 200, json: expect.objectContaining({ accepted: 2, rejected: 1 }) });
  await eventually('the body alert and the object delivered', async () => incidentsFor('root-1').length === 1 && (await drained()));
  expect(incidentsFor('root-1')[0]).toMatchObject({ priority: 'P1', message: 'ROOT ALERT sev1' });
  expect(incidentsFor('root-1')[0]?.description).toContain("a list of 2 beside the alert's own fields");
  expect(incidents().some((incident) => incident.event_id.startsWith('relay-derived-') && incident.description.includes('| note |'))).toBe(
    true,
  );
  await eventually('"oops" in the dead-letter queue', async () => (await status()).queue.deadLetter === lettersBefore + 1);
});

test('finding 3: ids that differ only in a lone surrogate are two alerts: two incidents, two ledger items, two log renderings', async () => {
  // The body as Threat Stack's JSON would carry such ids: escaped.
  const body = `{"alerts":[${['\\ud801', '\\udc02'].map((tail) => `{"id":"v-${tail}","title":"surrogate","severity":2,"created_at":1700000000000}`).join(',')}]}`;
  const response = await fetch(`${relay.baseUrl}/threatstack/${TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  expect(response.status).toBe(200);
  await eventually('both delivered', async () => incidents().filter((i) => i.message === 'surrogate').length === 2 && (await drained()));
  expect(
    incidents()
      .filter((i) => i.message === 'surrogate')
      .map((i) => i.event_id)
      .sort(),
  ).toEqual(['v-\ud801', 'v-\udc02']);
  for (const key of ['alert-escaped#v-\\ud801', 'alert-escaped#v-\\udc02']) {
    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: `${PREFIX}-ledger`, Key: { pk: { S: key } } }));
    expect(Item?.state?.S).toBe('delivered');
  }
  // The JSON log lines keep each id apart (escaped, never U+FFFD), and neither was "already delivered".
  expect(relay.output()).toContain('"alertId":"v-\\ud801"');
  expect(relay.output()).toContain('"alertId":"v-\\udc02"');
  expect(relay.output()).not.toMatch(/already delivered[^\n]*"v-/);
});

test('finding 4: a resend that spells its numbers as strings is the same alert: it pages once', async () => {
  const numbers = alert('spelled-1', { severity: 2, created_at: 1_700_000_000_000 });
  expect((await post({ alerts: [numbers] })).status).toBe(200);
  await eventually('delivered', async () => incidentsFor('spelled-1').length === 1 && (await drained()));
  expect((await post({ alerts: [{ ...numbers, severity: '2', created_at: '1700000000000' }] })).status).toBe(200);
  await eventually('the resend skipped', () => /already delivered[^\n]*"spelled-1"/.test(relay.output()));
  expect(incidentsFor('spelled-1')).toHaveLength(1);
});

test('neither the webhook token nor the Squadcast key appears in anything the relay printed', () => {
  expect(relay.output()).toContain('webhook accepted');
  expect(relay.output()).not.toContain(squadcast.key);
  // The local banner prints the local webhook URL on purpose; past it, the token must not appear.
  const afterBanner = relay.output().split('stop: Ctrl-C')[1] ?? '';
  expect(afterBanner.length).toBeGreaterThan(0);
  expect(afterBanner).not.toContain(TOKEN);
});
