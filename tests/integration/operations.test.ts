import type { FakeSquadcast } from '../../devkit/fake-squadcast';
import { emulatorEnv, stopLocalStack } from '../helpers/emulators';
import type { EmulatorProcess, RelayProcess } from '../helpers/local-processes';
import { eventually, runScript, startRelayOnFakes, startRelayProcess } from '../helpers/local-processes';

/**
 * The operator's side of the relay, as a user tries it against the local stack: the severity
 * filter and priority mapping set through the environment, `npm run test-alert` and
 * `npm run status` run as commands, the EMF metrics and correlated logs the functions print,
 * and a bad setting failing the start with the key's name.
 */
const TOKEN = 'operations-token-0123456789';
const PREFIX = 'relay-ops';

let emulators: EmulatorProcess;
let squadcast: FakeSquadcast;
let relay: RelayProcess;

type Incident = { message: string; priority: string; event_id: string; description: string };
const incidents = (): Incident[] => squadcast.requests.map((request) => JSON.parse(request.body) as Incident);

const alert = (id: string, severity: number): Record<string, unknown> => ({
  id,
  title: `Host:  operations alert ${id}`,
  created_at: 1_700_000_000_123,
  severity,
  organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
  server_or_region: 'web-1',
  source: 'Host',
});

const port = (): string => new URL(relay.baseUrl).port;

/** Runs `npm run <script> -- ...` the way npm does: tsx on the script file. */

/** The EMF documents the relay printed (one JSON line each, `_aws` at the top). */
const emfLines = (): Array<
  Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } }
> =>
  relay
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line));

beforeAll(async () => {
  ({ emulators, squadcast, relay } = await startRelayOnFakes(
    { token: TOKEN, prefix: PREFIX },
    { DELIVER_SEVERITIES: 'high,2', SEVERITY_PRIORITIES: '1=P2,2=P4', RELAY_STAGE: 'ops-test' },
  ));
}, 150_000);

afterAll(() => stopLocalStack({ relay, emulators, squadcast }));

test('filtered severities are answered 200 and counted, never paged; the others get the configured priorities', async () => {
  const response = await fetch(`${relay.baseUrl}/threatstack/${TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      alerts: [alert('ops-high', 1), alert('ops-medium', 2), alert('ops-low', 3), alert('ops-low-2', '3' as unknown as number)],
    }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ accepted: 2, rejected: 0, duplicates: 0, filtered: 2 });

  await eventually('two incidents', () => incidents().length >= 2);
  await eventually(
    'queue drained',
    async () => ((await (await fetch(`${relay.baseUrl}/status`)).json()) as { queue: { pending: number } }).queue.pending === 0,
  );
  expect(
    incidents()
      .map((i) => `${i.event_id} ${i.priority}`)
      .sort(),
  ).toEqual(['ops-high P2', 'ops-medium P4']);

  const filteredLog = relay
    .output()
    .split('\n')
    .find((line) => line.includes('alerts filtered out by severity'));
  expect(JSON.parse(filteredLog ?? '{}')).toMatchObject({
    level: 'INFO',
    service: 'ingest',
    filtered: 2,
    severities: [3],
    alertIds: ['ops-low', 'ops-low-2'],
  });
});

test('metrics are EMF lines under service + stage only, counting what happened', async () => {
  await eventually(
    'ingest and deliver metrics printed',
    () => emfLines().some((l) => 'AlertsFiltered' in l) && emfLines().some((l) => 'IncidentsDelivered' in l),
  );
  for (const line of emfLines()) {
    expect(line._aws.CloudWatchMetrics).toEqual([
      expect.objectContaining({ Namespace: 'ThreatstackSquadcastRelay', Dimensions: [['service', 'stage']] }),
    ]);
    expect(line).toMatchObject({ service: 'threatstack-squadcast-relay', stage: 'ops-test' });
    expect(JSON.stringify(line)).not.toContain('ops-high');
  }
  const ingest = emfLines().find((l) => 'AlertsFiltered' in l);
  expect(ingest).toMatchObject({ AlertsReceived: 4, AlertsEnqueued: 2, AlertsRejected: 0, AlertsFiltered: 2 });
  const delivered = emfLines()
    .filter((l) => 'IncidentsDelivered' in l)
    .reduce((sum, l) => sum + Number(l.IncidentsDelivered), 0);
  expect(delivered).toBe(2);
  expect(emfLines().some((l) => typeof l.SquadcastLatency === 'number' || Array.isArray(l.SquadcastLatency))).toBe(true);
});

test('a delivery log line carries the alert id as correlation_id', () => {
  const lines = relay
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"level"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.find((l) => l.message === 'incident delivered' && l.alertId === 'ops-high')).toMatchObject({
    service: 'deliver',
    correlation_id: 'ops-high',
  });
});

test('npm run test-alert -- --local: one labelled incident through the real queue and deliver, past the filter, confirmed by the status', async () => {
  const before = incidents().length;
  const result = await runScript('test-alert', ['--local', '--port', port(), '--token', TOKEN, '--wait', '30']);
  expect(result.output).toMatch(/Queued test alert relay-test-[0-9a-f-]{36} \(severity 3\) on relay-ops-alerts/);
  expect(result.output).toMatch(/Delivered: Squadcast accepted test alert relay-test-[0-9a-f-]{36} at /);
  expect(result.code).toBe(0);
  const added = incidents().slice(before);
  expect(added).toHaveLength(1);
  // Severity 3 is filtered at ingest, but a test alert does not pass through ingest; 3 keeps P3.
  expect(added[0]).toMatchObject({ message: 'TEST ALERT from threatstack-squadcast-relay', priority: 'P3' });
  expect(added[0]?.event_id).toMatch(/^relay-test-/);
  expect(added[0]?.description).toContain('| test_alert | Synthetic alert from the relay test-alert function');
  // It says where the local relay sends (not "in Squadcast", when the built-in inbox may be what it uses), then where to look next.
  expect(result.output).toContain(
    `its built-in inbox (http://127.0.0.1:${port()}/local/incidents), or your Squadcast when SQUADCAST_WEBHOOK_URL is set`,
  );
  expect(result.output).toContain(`Look next:\n  status page   http://127.0.0.1:${port()}/status\n`);
});

test('npm run send-sample -- --help only prints the usage; without it, three alerts are queued and the links follow', async () => {
  const before = incidents().length;
  const help = await runScript('send-sample', ['--help', '--port', port()]);
  expect(help.code).toBe(0);
  expect(help.output).toMatch(/^usage: npm run send-sample/);
  const sent = await runScript('send-sample', ['--port', port(), '--token', TOKEN]);
  expect(sent.code).toBe(0);
  expect(sent.output).toMatch(/^200 \{"accepted":\d,/);
  expect(sent.output).toContain(`  status page   http://127.0.0.1:${port()}/status`);
  // The relay filters severity 3 here (DELIVER_SEVERITIES=high,2): the sample's 1 and 2 page, and the --help run sent nothing.
  await eventually('the sample delivered', () => incidents().slice(before).length === 2);
  expect(
    incidents()
      .slice(before)
      .every((incident) => incident.event_id.startsWith('sample-')),
  ).toBe(true);
});

test('npm run status -- --local prints the same facts as the status page', async () => {
  const result = await runScript('status', ['--local', '--port', port()]);
  expect(result.code).toBe(0);
  expect(result.output).toContain(`local stack on 127.0.0.1:${port()}`);
  expect(result.output).toContain('● Receiving alerts');
  // ops-high and ops-medium, the test alert, and the two sample alerts that page.
  expect(result.output).toMatch(/Incidents, 30 days\s+5\n/);
  expect(result.output).toMatch(/Dead-letter queue\s+0\n/);
});

test('a bad DELIVER_SEVERITIES fails the start, naming the key and not the value', async () => {
  const failed = startRelayProcess({
    ...emulatorEnv(emulators),
    LOCAL_RESOURCE_PREFIX: `${PREFIX}-bad`,
    DELIVER_SEVERITIES: '1,SENTINEL-urgent',
  });
  await expect(failed).rejects.toThrow(
    /relay failed to start: invalid configuration: DELIVER_SEVERITIES: entry 2 is not a severity \(1, 2, 3, high, medium or low\)/,
  );
  await expect(failed).rejects.not.toThrow('SENTINEL');
});
