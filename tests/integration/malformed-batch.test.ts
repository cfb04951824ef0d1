import { Secret } from '../../lib/common/secret';
import { deliverBatch } from '../../lib/delivery/deliver-batch';
import type { QueueRecord } from '../../lib/delivery/record-outcome';
import { ingestWebhook } from '../../lib/ingest/ingest-webhook';
import { MAX_MESSAGE_BYTES } from '../../lib/queue/messages';
import { anAllowlist, aRawAlert, TEST_WEBHOOK_TOKEN, THREAT_STACK_IP } from '../helpers/factories';
import { CapturingLogger, FakeIncidentSink, FakeLedger, FakeMessageQueue, FakeRetryScheduler, inertDeliverDeps } from '../helpers/fakes';

/**
 * One batch of the malformations seen in the wild or plausible after a payload change on Threat
 * Stack's side, through the real ingest and the real deliver (in-memory queues, ledger and sink):
 * every element that is an object becomes exactly one incident, the others go to the dead-letter
 * queue. Prints the figures.
 */
const NOW = new Date('2026-12-01T12:00:00.000Z');

const deep = (levels: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i += 1) value = { next: value };
  return value;
};

const { id: _noId, ...withoutId } = aRawAlert({ title: 'no id at all' });

const MALFORMED: ReadonlyArray<readonly [string, unknown]> = [
  ['severity 4', aRawAlert({ severity: 4 })],
  ['severity "high"', aRawAlert({ severity: 'high' })],
  ['severity null', aRawAlert({ severity: null })],
  ['server_or_region null', aRawAlert({ server_or_region: null })],
  ['created_at as an ISO string', aRawAlert({ created_at: '2017-12-06T16:12:41.417Z' })],
  ['created_at "1459447024000.0"', aRawAlert({ created_at: '1459447024000.0' })],
  ['created_at in seconds', aRawAlert({ created_at: 1_459_447_024 })],
  ['created_at in microseconds', aRawAlert({ created_at: 1_512_576_761_417_000 })],
  ['created_at 0', aRawAlert({ created_at: 0 })],
  ['no title', aRawAlert({ title: undefined })],
  ['title an object', aRawAlert({ title: { text: 'nested title' } })],
  ['no id', withoutId],
  ['the same alert without an id, keys in another order (a duplicate)', Object.fromEntries(Object.entries(withoutId).reverse())],
  ['an id of 3000 characters', aRawAlert({ id: 'x'.repeat(3_000) })],
  ['an id that is a number', aRawAlert({ id: 491_000 })],
  ['organization_id missing', aRawAlert({ organization_id: undefined })],
  ['source a number', aRawAlert({ source: 2 })],
  ['an extra field nested 40 levels deep', aRawAlert({ evidence: deep(40) })],
  ['too large for one queue message', aRawAlert({ evidence: 'e'.repeat(MAX_MESSAGE_BYTES) })],
  ['an empty object', {}],
  ['not an object: a string', 'alert'],
  ['not an object: null', null],
  ['not an object: an array', [aRawAlert()]],
];

test('a batch of real-world malformations: every object pages once, degraded; only non-objects are dead-lettered', async () => {
  const alerts = new FakeMessageQueue(MAX_MESSAGE_BYTES);
  const deadLetters = new FakeMessageQueue(MAX_MESSAGE_BYTES);
  const counted = new Map<string, number>();
  const metrics = {
    count: (metric: string, value = 1) => void counted.set(metric, (counted.get(metric) ?? 0) + value),
    squadcastLatency: () => undefined,
    largest: () => undefined,
    flush: () => undefined,
  };
  const result = await ingestWebhook(
    {
      sourceIp: THREAT_STACK_IP,
      token: TEST_WEBHOOK_TOKEN,
      body: Buffer.from(JSON.stringify({ alerts: [aRawAlert(), ...MALFORMED.map(([, element]) => element)] })),
    },
    {
      allowlist: anAllowlist(),
      token: new Secret(TEST_WEBHOOK_TOKEN),
      alerts,
      deadLetters,
      log: new CapturingLogger(),
      now: () => NOW,
      // A filter that drops severities 2 and 3: an alert whose severity cannot be read still pages.
      deliverSeverities: new Set([1] as const),
      metrics,
    },
  );
  const objects = MALFORMED.filter(([, element]) => typeof element === 'object' && element !== null && !Array.isArray(element)).length;
  expect(result).toEqual({ kind: 'accepted', accepted: objects, degraded: objects - 1, rejected: 3, duplicates: 1 });
  expect(counted.get('degraded')).toBe(objects - 1);

  const sink = new FakeIncidentSink();
  const records: QueueRecord[] = alerts.accepted.map((message, i) => ({
    messageId: `m${i}`,
    receiptHandle: `r${i}`,
    body: message.body,
    receiveCount: 1,
  }));
  const delivered = await deliverBatch(records, {
    ...inertDeliverDeps(),
    sink,
    ledger: new FakeLedger(),
    deadLetters: new FakeMessageQueue(MAX_MESSAGE_BYTES),
    retries: new FakeRetryScheduler(),
    retryPolicy: { baseSeconds: 1, maxSeconds: 2, giveUpSeconds: 86_400, inFlightSeconds: 1 },
    concurrency: 4,
    log: new CapturingLogger(),
    now: () => NOW,
  });
  expect(delivered.outcomes.every((outcome) => outcome.kind === 'delivered')).toBe(true);
  const incidents = sink.sent;
  expect(new Set(incidents.map((incident) => incident.event_id)).size).toBe(objects);
  const unknownSeverity = incidents.filter((incident) => JSON.stringify(incident.tags.severity).includes('"unknown"')).length;
  const withHeading = incidents.filter((incident) => incident.description.includes('**Fields the relay could not read:**')).length;
  const withNotes = incidents.filter((incident) => incident.description.includes('**Notes from the relay:**')).length;
  expect(unknownSeverity).toBe(4); // severity 4, "high", null, and the empty object
  expect(incidents.filter((incident) => incident.priority === 'P1').length).toBeGreaterThanOrEqual(unknownSeverity);
  console.log(
    `malformed batch: ${MALFORMED.length + 1} elements (1 well-formed, ${MALFORMED.length} malformed); 200 ${JSON.stringify({ ...result, kind: undefined })}; incidents ${incidents.length}, of which unknown severity ${unknownSeverity}, with "could not read" ${withHeading}, with relay notes ${withNotes}; dead-lettered ${deadLetters.accepted.length}`,
  );
});
