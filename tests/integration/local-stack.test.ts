import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RelayProcess } from '../helpers/local-processes';
import { eventually, startRelayProcess } from '../helpers/local-processes';

/** `npm start` on its embedded defaults: emulators in-process, the local Squadcast inbox, the default token. */
let relay: RelayProcess;

beforeAll(async () => {
  relay = await startRelayProcess({
    AWS_ENDPOINT_URL_SQS: '',
    AWS_ENDPOINT_URL_DYNAMODB: '',
    SQUADCAST_WEBHOOK_URL: '',
    WEBHOOK_TOKEN: '',
    ALLOWED_SOURCE_IPS: '',
  });
}, 150_000);

afterAll(() => relay?.stop());

test('the banner names the webhook, the status page and the embedded parts', () => {
  expect(relay.output()).toMatch(/webhook \(POST\)\s+http:\/\/127\.0\.0\.1:\d+\/threatstack\/local-dev-token-change-me/);
  expect(relay.output()).toContain('local inbox');
  expect(relay.output()).toContain('52.20.173.142,54.173.79.87,54.174.225.119,127.0.0.1,::1');
  expect(relay.output()).toMatch(/SQS\s+http:\/\/127\.0\.0\.1:\d+ \(embedded\)/);
  // Tests run in memory: they never touch the project's ./.relay-data.
  expect(relay.output()).toContain('data             in memory only (RELAY_DATA_DIR is empty)');
});

test('the sample batch becomes incidents in the local inbox and the status turns active', async () => {
  const sample = readFileSync(join(__dirname, '..', '..', 'events', 'sample-batch.json'), 'utf8');
  const response = await fetch(`${relay.baseUrl}/threatstack/local-dev-token-change-me`, { method: 'POST', body: sample });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ accepted: 3, rejected: 0, duplicates: 0 });
  const listed = async (): Promise<Array<{ event_id: string; priority: string }>> =>
    (await (await fetch(`${relay.baseUrl}/local/incidents`)).json()) as Array<{ event_id: string; priority: string }>;
  await eventually('three incidents in the inbox', async () => (await listed()).length === 3);
  expect((await listed()).map((incident) => `${incident.event_id} ${incident.priority}`).sort()).toEqual([
    '5a1b2c3d4e5f60718293a4b5 P2',
    '7c1e2f30-1a2b-11ee-8c90-0242ac120002 P1',
    '8d2f3a40-1a2b-11ee-8c90-0242ac120002 P3',
  ]);
  const status = (await (await fetch(`${relay.baseUrl}/status`)).json()) as { active: boolean; incidentsLast30Days: number };
  expect(status).toMatchObject({ active: true, incidentsLast30Days: 3 });
  expect(relay.output()).toContain('[local squadcast] incident P1 7c1e2f30-1a2b-11ee-8c90-0242ac120002');
});

test('unknown routes are 404 JSON', async () => {
  const response = await fetch(`${relay.baseUrl}/nope`);
  expect(response.status).toBe(404);
  expect(await response.json()).toEqual({ error: 'not found' });
});
