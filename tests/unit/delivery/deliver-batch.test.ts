import type { Alert } from '../../../lib/alert/codec';
import { fingerprintOf } from '../../../lib/alert/fingerprint';
import { circuitBreakerOptions, createCircuitBreaker } from '../../../lib/delivery/circuit-breaker';
import { deliverBatch } from '../../../lib/delivery/deliver-batch';
import { HELD_BACK } from '../../../lib/delivery/deliver-record';
import type { DeliverDeps, QueueRecord } from '../../../lib/delivery/record-outcome';
import { createRecoveryWatch } from '../../../lib/delivery/recovery-watch';
import type { RetryPolicy } from '../../../lib/delivery/retry-budget';
import type { SquadcastIncident } from '../../../lib/incident/to-incident';
import { MAX_MESSAGE_BYTES, messageBytes } from '../../../lib/queue/messages';
import { createSqsQueue } from '../../../lib/queue/sqs-queue';
import { anAlert, aQueuedAlertBody, aQueueRecord, aRawAlert, SENTINEL } from '../../helpers/factories';
import {
  CapturingLogger,
  FakeIncidentSink,
  FakeLedger,
  FakeMessageQueue,
  FakeRetryScheduler,
  flushPromises,
  gaugeRecorder,
  inertDeliverDeps,
} from '../../helpers/fakes';
import { sqsRulesClient } from '../../helpers/sqs-rules-client';

const NOW = new Date('2023-11-14T22:13:20.000Z');
// The deliver defaults: steps of half the alert's age from 2 s to 300 s, give up after 24 h.
const POLICY: RetryPolicy = { baseSeconds: 2, maxSeconds: 300, giveUpSeconds: 86_400, inFlightSeconds: 45 };
const HOUR_MS = 3_600_000;
/**
 * A record SQS has held since `ageMs` before NOW (its SentTimestamp), received often enough (20
 * times) that its age, not its receive count, sets the step.
 */
const waitedFor = (ageMs: number, overrides: Parameters<typeof aQueueRecord>[0] = {}): QueueRecord =>
  aQueueRecord({ sentAtMs: NOW.getTime() - ageMs, receiveCount: 20, ...overrides });

const setup = (overrides: Partial<DeliverDeps> = {}) => {
  const sink = new FakeIncidentSink();
  const ledger = new FakeLedger();
  const deadLetters = new FakeMessageQueue();
  const retries = new FakeRetryScheduler();
  const log = new CapturingLogger();
  const deps: DeliverDeps = {
    ...inertDeliverDeps(),
    sink,
    ledger,
    deadLetters,
    retries,
    retryPolicy: POLICY,
    concurrency: 10,
    log,
    now: () => NOW,
    random: () => 0.5,
    ...overrides,
  };
  return { deps, sink, ledger, deadLetters, retries, log, deliver: (records: readonly QueueRecord[]) => deliverBatch(records, deps) };
};

type DeadLetter = {
  alert?: Alert;
  alertId?: string;
  receivedAt?: string;
  failure: { stage: string; reason: string; at: string; problems?: string[] };
  raw?: unknown;
};

describe('deliverBatch: delivered', () => {
  it('POSTs the incident, completes the claim and reports no failure', async () => {
    const { deliver, sink, ledger, retries } = setup();
    const alert = anAlert({ severity: 2 });
    const record = aQueueRecord({ alert });
    const result = await deliver([record]);
    expect(result).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'delivered' }] });
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]).toEqual(expect.objectContaining({ event_id: alert.id, priority: 'P2', status: 'trigger' }));
    expect(ledger.claims).toEqual([alert.id]);
    const fingerprint = fingerprintOf(alert);
    const version = { alertId: alert.id, fingerprint: fingerprint.value, fields: fingerprint.fields, holdMs: 30 * 24 * 3_600_000 };
    expect(ledger.completed).toEqual([{ lease: { version, token: 'lease-1', until: Number.POSITIVE_INFINITY }, deliveredAt: NOW }]);
    expect(ledger.stateOf(alert.id)).toBe('delivered');
    expect(retries.calls).toEqual([]);
  });

  it('sends with the configured priorities', async () => {
    const { deliver, sink } = setup({ priorities: { 1: 'P2', 2: 'P4', 3: 'P5' } });
    await deliver([aQueueRecord({ alert: anAlert({ severity: 3 }) })]);
    expect(sink.sent[0]?.priority).toBe('P5');
  });

  it('logs the alert id, never the alert text', async () => {
    const { deliver, log } = setup();
    const alert = anAlert({ title: SENTINEL });
    await deliver([aQueueRecord({ alert, receiveCount: 2 })]);
    expect(log.find('incident delivered')).toEqual({
      level: 'info',
      message: 'incident delivered',
      fields: expect.objectContaining({ alertId: alert.id, status: 202, receiveCount: 2 }),
    });
    expect(log.text()).not.toContain(SENTINEL);
  });

  it('does not retry when complete() fails after a 2xx (that would page twice), and logs it', async () => {
    const { deliver, sink, ledger, retries, log } = setup();
    ledger.completeError = Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
    const alert = anAlert();
    const result = await deliver([aQueueRecord({ alert })]);
    expect(result).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'delivered' }] });
    expect(sink.sent).toHaveLength(1);
    expect(retries.calls).toEqual([]);
    expect(log.find('incident delivered but not recorded')).toEqual({
      level: 'error',
      message: 'incident delivered but not recorded',
      fields: { alertId: alert.id, error: 'ProvisionedThroughputExceededException' },
    });
  });
});

describe('deliverBatch: idempotency', () => {
  it('does not POST an alert already delivered, and reports success', async () => {
    const { deliver, sink, ledger, retries } = setup();
    const alert = anAlert();
    ledger.seed(alert.id, 'delivered');
    const record = aQueueRecord({ alert });
    expect(await deliver([record])).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'duplicate' }] });
    expect(sink.sent).toEqual([]);
    expect(retries.calls).toEqual([]);
  });

  it('retries an alert another delivery holds, after inFlightSeconds, without POSTing', async () => {
    const { deliver, sink, ledger, retries } = setup();
    const alert = anAlert();
    ledger.seed(alert.id, 'in-flight');
    const record = aQueueRecord({ alert });
    expect(await deliver([record])).toEqual({
      failedMessageIds: [record.messageId],
      outcomes: [{ kind: 'deferred', reason: 'another delivery holds the alert', delaySeconds: 45 }],
    });
    expect(sink.sent).toEqual([]);
    expect(retries.calls).toEqual([{ receiptHandle: record.receiptHandle, seconds: 45 }]);
  });

  it('sends an alert twice in one batch once', async () => {
    const { deliver, sink } = setup({ concurrency: 1 });
    const alert = anAlert();
    const result = await deliver([aQueueRecord({ alert }), aQueueRecord({ alert })]);
    expect(result.outcomes).toEqual([{ kind: 'delivered' }, { kind: 'duplicate' }]);
    expect(sink.sent).toHaveLength(1);
  });
});

describe('deliverBatch: transient failures come back later', () => {
  it('releases the claim and retries after half to all of a step of half the alert age, from 2 s up to 300 s', async () => {
    const { deliver, sink, ledger, retries, log } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
    const records = [0, 60_000, HOUR_MS, 23 * HOUR_MS].map((ageMs) => waitedFor(ageMs, ageMs === 0 ? { receiveCount: 1 } : {}));
    const result = await deliver(records);
    expect(result.failedMessageIds).toEqual(records.map((r) => r.messageId));
    // Equal jitter with random() = 0.5: 3/4 of min(300 s, max(2 s, age / 2)) (the receive count is no shorter here).
    expect(result.outcomes).toEqual(
      [1.5, 22.5, 225, 225].map((delaySeconds) => ({ kind: 'retry', reason: 'Squadcast answered 503', delaySeconds })),
    );
    expect(retries.calls).toEqual(records.map((r, i) => ({ receiptHandle: r.receiptHandle, seconds: [1.5, 22.5, 225, 225][i] })));
    expect(ledger.released).toHaveLength(4);
    for (const record of records) expect(ledger.stateOf(JSON.parse(record.body).alert.id)).toBe('failed');
    expect(log.at('warn').map((e) => e.fields?.waitedSeconds)).toEqual([0, 60, 3_600, 82_800]);
  });

  it('steps by the smaller of half the age and 2 s doubled per receive: neither deferrals nor time in a busy queue lengthen it', async () => {
    const { deliver, sink } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' });
    // 30 s old: its 1st receive (it waited in the queue) steps 2 s, its 3rd 8 s; its 40th (deferred often) 15 s, half its age.
    const result = await deliver([1, 3, 40].map((receiveCount) => waitedFor(30_000, { receiveCount })));
    expect(result.outcomes.map((o) => (o.kind === 'retry' ? o.delaySeconds : NaN))).toEqual([1.5, 6, 11.25]);
  });

  it("measures the wait from SQS's SentTimestamp (a redrive restarts it), else from the envelope's receivedAt", async () => {
    const { deliver, sink, deadLetters } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 502', failure: 'server-error' });
    const threeDaysAgo = new Date(NOW.getTime() - 72 * HOUR_MS).toISOString();
    const redriven = waitedFor(60_000, { body: aQueuedAlertBody(anAlert(), threeDaysAgo) });
    const withoutSentTimestamp = aQueueRecord({
      body: aQueuedAlertBody(anAlert(), new Date(NOW.getTime() - 60_000).toISOString()),
      receiveCount: 20,
    });
    const neither = aQueueRecord({ body: JSON.stringify({ alert: anAlert() }) });
    const result = await deliver([redriven, withoutSentTimestamp, neither]);
    expect(result.outcomes).toEqual([
      { kind: 'retry', reason: 'Squadcast answered 502', delaySeconds: 22.5 },
      { kind: 'retry', reason: 'Squadcast answered 502', delaySeconds: 22.5 },
      { kind: 'retry', reason: 'Squadcast answered 502', delaySeconds: 1.5 },
    ]);
    expect(deadLetters.accepted).toEqual([]);
  });

  it.each<[number, number]>([
    [0, 1],
    [1, 2],
  ])('spreads the first retry between half and all of the base step (random() = %p -> %p s)', async (random, seconds) => {
    const { deliver, sink, retries } = setup({ random: () => random });
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' });
    await deliver([waitedFor(0, { receiveCount: 1 })]);
    expect(retries.calls[0]?.seconds).toBe(seconds);
  });

  it('waits at least k x 0.18 s on the k-th receive, so that 1000 receives cannot fit in the budget', async () => {
    const { deliver, sink, retries } = setup({ random: () => 0 });
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' });
    await deliver([waitedFor(HOUR_MS, { receiveCount: 10 }), waitedFor(HOUR_MS, { receiveCount: 999 })]);
    // Jitter at its lowest: 150 s; the floor for the 999th receive: 999 x 2 x 90 000 / (1000 x 1001) = 179.64 s.
    expect(retries.calls.map((c) => c.seconds)).toEqual([150, expect.closeTo(179.64, 2)]);
  });

  it('honours Retry-After when it is longer than the backoff', async () => {
    const { deliver, sink, retries } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: 120_000 });
    const record = waitedFor(0);
    await deliver([record]);
    expect(retries.calls).toEqual([{ receiptHandle: record.receiptHandle, seconds: 120 }]);
  });

  it('keeps the backoff when Retry-After is shorter', async () => {
    const { deliver, sink, retries } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: 1_000 });
    await deliver([waitedFor(160_000)]);
    expect(retries.calls[0]?.seconds).toBe(60);
  });

  it('never waits longer than maxSeconds, whatever Retry-After says', async () => {
    const { deliver, sink, retries } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error', retryAfterMs: 365 * 86_400_000 });
    await deliver([waitedFor(0)]);
    expect(retries.calls[0]?.seconds).toBe(300);
  });

  it('still retries when releasing the claim fails', async () => {
    const { deliver, sink, ledger } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast request timed out', failure: 'timeout' });
    ledger.releaseError = new Error('dynamodb down');
    const record = aQueueRecord();
    expect((await deliver([record])).failedMessageIds).toEqual([record.messageId]);
  });

  it('swallows a failed retryAfter (the visibility timeout brings the record back) and still reports the record', async () => {
    const { deliver, sink, retries } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 502', failure: 'server-error' });
    retries.error = new Error('ReceiptHandleIsInvalid');
    const record = aQueueRecord();
    await expect(deliver([record])).resolves.toEqual(expect.objectContaining({ failedMessageIds: [record.messageId] }));
    expect(retries.calls).toHaveLength(1);
  });

  it('retries with backoff when claim() throws, without POSTing, and logs the error name', async () => {
    const { deliver, sink, ledger, retries, log } = setup();
    ledger.claimError = Object.assign(new Error('network'), { name: 'TimeoutError' });
    // Its 2nd receive, 40 s old: a step of min(20 s, 4 s), 3/4 of it.
    const record = waitedFor(40_000, { receiveCount: 2 });
    const result = await deliver([record]);
    expect(result).toEqual({
      failedMessageIds: [record.messageId],
      outcomes: [{ kind: 'retry', reason: 'dependency error', delaySeconds: 3 }],
    });
    expect(sink.sent).toEqual([]);
    expect(retries.calls).toEqual([{ receiptHandle: record.receiptHandle, seconds: 3 }]);
    expect(log.find('delivery step failed; will retry')?.fields).toEqual({ messageId: record.messageId, error: 'TimeoutError' });
  });

  it('never gives up on a dependency error, however long the alert has waited (the dead-letter queue may be what is down)', async () => {
    const { deliver, ledger, deadLetters } = setup();
    ledger.claimError = new Error('dynamodb down');
    const result = await deliver([waitedFor(30 * HOUR_MS)]);
    expect(result.outcomes).toEqual([{ kind: 'retry', reason: 'dependency error', delaySeconds: 225 }]);
    expect(deadLetters.attempted).toEqual([]);
  });

  it('retries when the sink itself throws', async () => {
    const { deliver, sink } = setup();
    sink.respond = () => {
      throw new Error('bug');
    };
    const record = aQueueRecord();
    expect((await deliver([record])).failedMessageIds).toEqual([record.messageId]);
  });
});

describe('deliverBatch: giving up after DELIVERY_GIVE_UP_HOURS', () => {
  it('a transient failure after the budget dead-letters the alert with the last failure and how long it waited', async () => {
    const { deliver, sink, ledger, deadLetters, retries, log } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
    const alert = anAlert({ title: SENTINEL });
    const record = waitedFor(24 * HOUR_MS + 185_000, { alert, receiveCount: 412 });
    expect(await deliver([record])).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'dead-lettered' }] });
    const reason = 'Squadcast answered 503; still failing after 24 h 3 min in the queue (give-up budget 24 h 0 min)';
    expect(deadLetters.bodies<DeadLetter>()).toEqual([
      {
        alert,
        alertId: alert.id,
        receivedAt: '2023-11-14T22:13:21.000Z',
        failure: { stage: 'deliver', reason, at: NOW.toISOString(), attempts: record.receiveCount },
      },
    ]);
    expect(ledger.released).toHaveLength(1);
    expect(retries.calls).toEqual([]);
    expect(log.find('delivery failed for too long; alert dead-lettered')).toEqual({
      level: 'error',
      message: 'delivery failed for too long; alert dead-lettered',
      fields: { alertId: alert.id, reason, waitedSeconds: 86_585 },
    });
    expect(log.text()).not.toContain(SENTINEL);
  });

  it('retries a failure one second before the budget is spent', async () => {
    const { deliver, sink, deadLetters } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' });
    expect((await deliver([waitedFor(24 * HOUR_MS - 1_000)])).outcomes).toEqual([
      { kind: 'retry', reason: 'Squadcast answered 500', delaySeconds: 225 },
    ]);
    expect(deadLetters.attempted).toEqual([]);
  });

  it('keeps the alert on the queue when the dead-letter queue refuses it', async () => {
    const { deliver, sink, deadLetters } = setup();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' });
    deadLetters.failAll();
    expect((await deliver([waitedFor(25 * HOUR_MS)])).outcomes).toEqual([
      { kind: 'retry', reason: 'dead-letter queue unavailable', delaySeconds: 225 },
    ]);
  });

  it('a deferral never gives up: the rate ceiling and a lease held elsewhere put an alert past its budget back, unsent', async () => {
    const { deliver, ledger, deadLetters, sink } = setup({
      rateLimit: { admit: async () => ({ kind: 'later', delayMs: 12_500 }), pauseFor: () => undefined },
    });
    const held = anAlert();
    ledger.seed(held.id, 'in-flight');
    expect((await deliver([waitedFor(30 * HOUR_MS)])).outcomes).toEqual([
      { kind: 'deferred', reason: 'rate ceiling reached', delaySeconds: 12.5 },
    ]);
    const leased = setup({ ledger });
    expect((await leased.deliver([waitedFor(30 * HOUR_MS, { alert: held })])).outcomes).toEqual([
      { kind: 'deferred', reason: 'another delivery holds the alert', delaySeconds: 45 },
    ]);
    expect(deadLetters.attempted).toEqual([]);
    expect(leased.deadLetters.attempted).toEqual([]);
    expect(sink.sent).toEqual([]);
  });

  it('a deferral waits at least the backstop floor for its receive count', async () => {
    const { deliver } = setup({ rateLimit: { admit: async () => ({ kind: 'later', delayMs: 11_000 }), pauseFor: () => undefined } });
    const outcomes = (await deliver([waitedFor(0, { receiveCount: 3 }), waitedFor(0, { receiveCount: 500 })])).outcomes;
    expect(outcomes.map((o) => (o.kind === 'deferred' ? o.delaySeconds : NaN))).toEqual([11, expect.closeTo(89.91, 2)]);
  });
});

describe('deliverBatch: permanent failures go to the dead-letter queue', () => {
  it('dead-letters the queued alert with the reason, releases the claim and reports success', async () => {
    const { deliver, sink, ledger, deadLetters, retries, log } = setup();
    sink.answer({ kind: 'permanent', reason: 'Squadcast answered 400', failure: 'refused' });
    const alert = anAlert({ extra: 'kept' });
    const record = aQueueRecord({ body: aQueuedAlertBody(alert, '2023-11-14T22:13:19.000Z') });
    expect(await deliver([record])).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'dead-lettered' }] });
    expect(deadLetters.accepted.map((m) => m.key)).toEqual([alert.id]);
    expect(deadLetters.bodies<DeadLetter>()).toEqual([
      {
        alert,
        alertId: alert.id,
        receivedAt: '2023-11-14T22:13:19.000Z',
        failure: { stage: 'deliver', reason: 'Squadcast answered 400', at: NOW.toISOString(), attempts: 1 },
      },
    ]);
    expect(ledger.released.map((lease) => [lease.version.alertId, lease.token])).toEqual([[alert.id, 'lease-1']]);
    expect(retries.calls).toEqual([]);
    expect(log.find('delivery refused; alert dead-lettered')).toEqual({
      level: 'error',
      message: 'delivery refused; alert dead-lettered',
      fields: { alertId: alert.id, reason: 'Squadcast answered 400' },
    });
  });

  it('retries when the dead-letter queue refuses the message', async () => {
    const { deliver, sink, deadLetters, retries } = setup();
    sink.answer({ kind: 'permanent', reason: 'Squadcast answered 401', failure: 'refused' });
    deadLetters.failAll();
    const record = aQueueRecord();
    expect(await deliver([record])).toEqual({
      failedMessageIds: [record.messageId],
      outcomes: [{ kind: 'retry', reason: 'dead-letter queue unavailable', delaySeconds: 1.5 }],
    });
    expect(retries.calls).toEqual([{ receiptHandle: record.receiptHandle, seconds: 1.5 }]);
  });

  it('retries when the dead-letter queue throws', async () => {
    const { deliver, sink, deadLetters } = setup();
    sink.answer({ kind: 'permanent', reason: 'Squadcast answered 404', failure: 'refused' });
    deadLetters.error = new Error('socket hang up');
    const record = aQueueRecord();
    expect((await deliver([record])).failedMessageIds).toEqual([record.messageId]);
  });

  it.each<[string, string, string[]]>([
    ['not JSON', `not json ${SENTINEL}`, ['(root): expected JSON']],
    ['JSON without an alert', JSON.stringify({ note: SENTINEL }), ['alert: expected object']],
    ['an alert that is not an object', JSON.stringify({ alert: [SENTINEL] }), ['alert: expected object']],
  ])('dead-letters an undecodable message (%s) with its problems, without claiming or POSTing', async (_name, body, problems) => {
    const { deliver, sink, ledger, deadLetters, log } = setup();
    const record = aQueueRecord({ body });
    expect(await deliver([record])).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'dead-lettered' }] });
    expect(deadLetters.accepted.map((m) => m.key)).toEqual([record.messageId]);
    expect(deadLetters.bodies<DeadLetter>()).toEqual([
      { failure: { stage: 'deliver', reason: 'undecodable message', problems, at: NOW.toISOString() }, raw: body },
    ]);
    expect(ledger.claims).toEqual([]);
    expect(sink.sent).toEqual([]);
    expect(log.find('undecodable message dead-lettered')?.fields).toEqual({ messageId: record.messageId, problems });
    expect(log.text()).not.toContain(SENTINEL);
  });

  it('sends a dead letter from ingest that was redriven back as it was: its own reason and path, one more redrive', async () => {
    const { deliver, sink, ledger, deadLetters, log } = setup();
    const letter = {
      failure: { stage: 'ingest', reason: 'invalid alert', problems: ['alerts[1]: expected object'], at: 'x' },
      raw: SENTINEL,
    };
    const record = aQueueRecord({ body: JSON.stringify({ ...letter, redrives: 2 }) });
    expect(await deliver([record])).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'dead-lettered' }] });
    expect(deadLetters.bodies<DeadLetter>()).toEqual([{ ...letter, redrives: 3 }]);
    expect(ledger.claims).toEqual([]);
    expect(sink.sent).toEqual([]);
    expect(log.find('a dead letter that is not an alert was redriven; back to the dead-letter queue with its reason')?.fields).toEqual({
      messageId: record.messageId,
      reason: 'invalid alert',
      problems: ['alerts[1]: expected object'],
    });
  });

  it('a redriven dead letter that is not an alert, while the dead-letter queue refuses it, is kept on the alerts queue and retried', async () => {
    const { deliver, deadLetters, retries, log } = setup();
    deadLetters.fails = () => true;
    const letter = { failure: { stage: 'ingest', reason: 'not JSON', at: 'x' }, raw: SENTINEL };
    const record = aQueueRecord({ body: JSON.stringify(letter) });
    const result = await deliver([record]);
    expect(result.failedMessageIds).toEqual([record.messageId]);
    expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'retry', reason: 'dead-letter queue unavailable' })]);
    expect(retries.calls).toHaveLength(1);
    expect(log.find('a dead letter that is not an alert was redriven; back to the dead-letter queue with its reason')).toBeUndefined();
  });

  it('a redriven dead letter without problems is logged with none', async () => {
    const { deliver, log } = setup();
    const record = aQueueRecord({ body: JSON.stringify({ failure: { stage: 'ingest', reason: 'not JSON', at: 'x' }, raw: SENTINEL }) });
    await deliver([record]);
    expect(log.find('a dead letter that is not an alert was redriven; back to the dead-letter queue with its reason')?.fields).toEqual({
      messageId: record.messageId,
      reason: 'not JSON',
      problems: [],
    });
  });

  it('a delivery dead-lettered again after a redrive keeps the failure of its earlier trip', async () => {
    const { deliver, sink, deadLetters } = setup();
    sink.answer({ kind: 'permanent', reason: 'Squadcast answered 401', failure: 'refused' });
    const alert = anAlert();
    const earlier = { stage: 'deliver' as const, reason: 'Squadcast answered 404', at: '2023-11-10T00:00:00.000Z', attempts: 1 };
    await deliver([aQueueRecord({ body: JSON.stringify({ alert, alertId: alert.id, failure: earlier }), receiveCount: 2 })]);
    expect(deadLetters.bodies<DeadLetter & { earlierFailures?: unknown }>()[0]).toMatchObject({
      failure: { stage: 'deliver', reason: 'Squadcast answered 401', attempts: 2 },
      earlierFailures: [earlier],
    });
  });

  it('dead-letters an undecodable message of 250 KiB: SQS takes its dead letter, cut to fit 256 KiB', async () => {
    // A message of 250 KiB whose alert is not an object (any object is read as an alert, degraded or
    // not). In the dead letter it is a JSON string whose every quote is escaped: held whole, the dead
    // letter would be about 300 KiB.
    const alert = { ...anAlert(), tags: Array.from({ length: 25_000 }, (_, i) => `t${i}`) };
    const withTitle = (title: string) => JSON.stringify({ alert: [{ ...alert, title }] });
    const body = withTitle('x'.repeat(250 * 1024 - Buffer.byteLength(withTitle(''))));
    expect(Buffer.byteLength(body)).toBe(250 * 1024);
    expect(Buffer.byteLength(JSON.stringify({ raw: body }))).toBeGreaterThan(MAX_MESSAGE_BYTES);
    const sqs = sqsRulesClient();
    const { deliver, sink, ledger } = setup({ deadLetters: createSqsQueue(sqs.client, 'dead-letter-queue-url') });
    const record = aQueueRecord({ body });

    expect(await deliver([record])).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'dead-lettered' }] });

    expect(sqs.refused).toEqual([]);
    const [letter = '', ...others] = sqs.bodies.get('dead-letter-queue-url') ?? [];
    expect(others).toEqual([]);
    expect(messageBytes({ key: record.messageId, body: letter })).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const parsed = JSON.parse(letter) as DeadLetter;
    expect(parsed.failure).toEqual({
      stage: 'deliver',
      reason: 'undecodable message',
      problems: ['alert: expected object'],
      at: NOW.toISOString(),
    });
    expect(parsed.raw).toEqual(
      expect.stringMatching(new RegExp(`^\\{"alert":\\[\\{"id":".*…\\(truncated from ${body.length} characters\\)$`)),
    );
    expect(body.startsWith(String(parsed.raw).replace(/…\(truncated from \d+ characters\)$/, ''))).toBe(true);
    expect(ledger.claims).toEqual([]);
    expect(sink.sent).toEqual([]);
  });

  it('retries an undecodable message when the dead-letter queue refuses it', async () => {
    const { deliver, deadLetters } = setup();
    deadLetters.failAll();
    const record = aQueueRecord({ body: 'garbage' });
    expect((await deliver([record])).outcomes).toEqual([{ kind: 'retry', reason: 'dead-letter queue unavailable', delaySeconds: 1.5 }]);
  });
});

describe('deliverBatch: every queued object pages, read leniently', () => {
  it('delivers a message queued before alertId existed ({alert, receivedAt}) under the alert id', async () => {
    const { deliver, sink, ledger } = setup();
    const alert = aRawAlert({ severity: 2, created_at: '1700000000123' });
    const record = aQueueRecord({ body: JSON.stringify({ alert, receivedAt: '2023-11-14T22:13:19.000Z' }) });
    expect((await deliver([record])).outcomes).toEqual([{ kind: 'delivered' }]);
    expect(sink.sent[0]).toEqual(expect.objectContaining({ event_id: alert.id, priority: 'P2' }));
    expect(ledger.claims).toEqual([alert.id]);
  });

  it('pages an alert it can read only in part, under the id ingest chose, at the unknown-severity priority', async () => {
    const { deliver, sink, ledger } = setup({ priorities: { 1: 'P2', 2: 'P3', 3: 'P4' }, unknownSeverityPriority: 'P2' });
    const alert = { title: SENTINEL, severity: 9, server_or_region: null };
    const notes = [{ field: 'evidence', problem: 'nested deeper than 32 levels: cut at that depth' }];
    const record = aQueueRecord({
      body: JSON.stringify({ alert, alertId: 'relay-derived-abc', receivedAt: '2023-11-14T22:13:19.000Z', notes }),
    });
    expect((await deliver([record])).outcomes).toEqual([{ kind: 'delivered' }]);
    expect(ledger.claims).toEqual(['relay-derived-abc']);
    const [incident] = sink.sent as SquadcastIncident[];
    expect(incident).toEqual(
      expect.objectContaining({
        event_id: 'relay-derived-abc',
        priority: 'P2',
        tags: { severity: { value: 'unknown', color: '#7b1fa2' }, alert_id: 'relay-derived-abc' },
      }),
    );
    expect(incident?.description).toContain('**Fields the relay could not read:**');
    expect(incident?.description).toContain('**Notes from the relay:** evidence (nested deeper than 32 levels: cut at that depth).');
    expect(incident?.description).toContain('| Received by the relay | `2023-11-14T22:13:19.000Z` |');
  });

  it('uses the configured unknown-severity priority', async () => {
    const { deliver, sink } = setup({ unknownSeverityPriority: 'P3' });
    await deliver([aQueueRecord({ body: JSON.stringify({ alert: { ...anAlert(), severity: 'urgent' } }) })]);
    expect(sink.sent[0]?.priority).toBe('P3');
  });
});

describe('deliverBatch: a batch', () => {
  it('reports exactly the records to retry, in order, and nothing else', async () => {
    const { deliver, sink, ledger } = setup();
    const alerts = [anAlert(), anAlert(), anAlert(), anAlert(), anAlert()];
    ledger.seed(alerts[1]?.id ?? '', 'delivered');
    sink.respond = (incident: SquadcastIncident) =>
      incident.event_id === alerts[2]?.id
        ? { kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' }
        : incident.event_id === alerts[3]?.id
          ? { kind: 'permanent', reason: 'Squadcast answered 400', failure: 'refused' }
          : { kind: 'delivered', status: 202 };
    const records = [...alerts.map((alert) => aQueueRecord({ alert })), aQueueRecord({ body: '{' })];
    const result = await deliver(records);
    expect(result.outcomes.map((o) => o.kind)).toEqual(['delivered', 'duplicate', 'retry', 'dead-lettered', 'delivered', 'dead-lettered']);
    expect(result.failedMessageIds).toEqual([records[2]?.messageId]);
  });

  it('handles an empty batch', async () => {
    const { deliver, retries } = setup();
    expect(await deliver([])).toEqual({ failedMessageIds: [], outcomes: [] });
    expect(retries.calls).toEqual([]);
  });

  it.each([1, 3, 10])('never has more than concurrency = %p POSTs in flight', async (concurrency) => {
    const { deliver, sink } = setup({ concurrency });
    sink.hold();
    const records = Array.from({ length: 12 }, () => aQueueRecord());
    const delivering = deliver(records);
    let settled = 0;
    while (settled < records.length) {
      await flushPromises();
      expect(sink.inFlight).toBeLessThanOrEqual(concurrency);
      const next = sink.held[settled];
      if (next === undefined) throw new Error(`no send waiting after ${settled} answers`);
      expect(sink.inFlight).toBe(Math.min(concurrency, records.length - settled));
      next.resolve({ kind: 'delivered', status: 202 });
      settled++;
    }
    expect((await delivering).failedMessageIds).toEqual([]);
    expect(sink.maxInFlight).toBe(concurrency);
  });
});

describe('deliverBatch: its collaborators (rate ceiling, metrics)', () => {
  it('puts a record back when the rate limiter says later, giving its claim up for the next attempt', async () => {
    const { deliver, sink, ledger, retries } = setup({
      rateLimit: { admit: async () => ({ kind: 'later', delayMs: 12_500 }), pauseFor: () => undefined },
    });
    const record = aQueueRecord();
    expect(await deliver([record])).toEqual({
      failedMessageIds: [record.messageId],
      outcomes: [{ kind: 'deferred', reason: 'rate ceiling reached', delaySeconds: 12.5 }],
    });
    expect(ledger.claims).toHaveLength(1);
    expect(ledger.released).toHaveLength(1);
    expect(sink.sent).toEqual([]);
    expect(retries.calls).toEqual([{ receiptHandle: record.receiptHandle, seconds: 12.5 }]);
  });

  it('an alert already delivered spends no turn of the Squadcast pace: the ledger is asked first', async () => {
    const admit = jest.fn(async () => ({ kind: 'send' as const }));
    const { deliver, ledger, sink } = setup({ rateLimit: { admit, pauseFor: () => undefined } });
    const alert = anAlert();
    ledger.seed(alert.id, 'delivered');
    expect((await deliver([aQueueRecord({ alert })])).outcomes).toEqual([{ kind: 'duplicate' }]);
    expect(admit).not.toHaveBeenCalled();
    expect(sink.sent).toEqual([]);
  });

  it("pauses the rate limiter for Squadcast's Retry-After, capped at maxSeconds", async () => {
    const pauses: number[] = [];
    const rateLimit = { admit: async () => ({ kind: 'send' as const }), pauseFor: (ms: number) => void pauses.push(ms) };
    const { deliver, sink } = setup({ rateLimit });
    sink.respond = (incident) =>
      incident.message === 'far'
        ? { kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: 86_400_000 }
        : incident.message === 'near'
          ? { kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: 30_000 }
          : { kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' };
    await deliver([
      aQueueRecord({ alert: anAlert({ title: 'near' }) }),
      aQueueRecord({ alert: anAlert({ title: 'far' }) }),
      aQueueRecord({ alert: anAlert({ title: 'none' }) }),
    ]);
    expect(pauses.sort((a, b) => a - b)).toEqual([30_000, 300_000]);
  });

  it('counts each outcome, each failed send by class, the Squadcast latency and the age of the alerts held back', async () => {
    const counted: string[] = [];
    const latencies: number[] = [];
    const gauges: Array<[string, number]> = [];
    const metrics = {
      count: (metric: string) => void counted.push(metric),
      squadcastLatency: (ms: number) => void latencies.push(ms),
      largest: (metric: string, seconds: number) => void gauges.push([metric, seconds]),
      flush: () => undefined,
    };
    const { deliver, ledger, sink } = setup({ metrics });
    const duplicate = anAlert();
    ledger.seed(duplicate.id, 'delivered');
    const failing = anAlert();
    sink.respond = (incident) =>
      incident.event_id === failing.id ? { kind: 'transient', reason: 'x', failure: 'server-error' } : { kind: 'delivered', status: 202 };
    const queuedTenMinutesAgo = NOW.getTime() - 600_000;
    await deliver([
      aQueueRecord(),
      aQueueRecord({ alert: duplicate }),
      aQueueRecord({ alert: failing, sentAtMs: queuedTenMinutesAgo }),
      aQueueRecord({ body: 'x' }),
    ]);
    expect(counted.sort()).toEqual(['deadLettered', 'delivered', 'duplicate', 'failedServerError', 'retried']);
    expect(latencies).toHaveLength(2);
    // Its first failed send is now: it has failed for 0 s, though it waited 10 minutes.
    expect(gauges).toEqual([
      ['squadcastFailingFor', 0],
      ['oldestHeldBackAlertAge', 600],
    ]);
  });
});

describe('deliverBatch: a POST only within the lease', () => {
  it('gives the turn up when too little of the lease is left for the POST and its record, without sending', async () => {
    let now = NOW.getTime();
    const { deliver, ledger, sink, log } = setup({
      now: () => new Date(now),
      postWindowMs: 2_000,
      // The turn comes 2.5 s into a 4 s lease: 1.5 s left, less than the 2 s a POST may take.
      rateLimit: {
        admit: async () => {
          now += 2_500;
          return { kind: 'send' };
        },
        pauseFor: () => undefined,
      },
    });
    ledger.leaseMs = 4_000;
    const result = await deliver([aQueueRecord()]);
    expect(sink.sent).toEqual([]);
    expect(ledger.released).toHaveLength(1);
    expect(result.outcomes).toEqual([{ kind: 'deferred', reason: 'too little of the lease left to send', delaySeconds: 1 }]);
    expect(log.find('too little of the lease left to send; will retry')?.fields).toMatchObject({ leaseLeftMs: 1_500 });
  });

  it('sends when the POST fits the lease left', async () => {
    const { deliver, ledger, sink } = setup({ postWindowMs: 2_000 });
    ledger.leaseMs = 4_000;
    await deliver([aQueueRecord()]);
    expect(sink.sent).toHaveLength(1);
  });

  it('says so when it takes over a claim that ran out, and sends', async () => {
    const { deliver, ledger, sink, log } = setup();
    const alert = anAlert();
    const claim = ledger.claim.bind(ledger);
    ledger.claim = async (version, now) => {
      const result = await claim(version, now);
      return result.kind === 'claimed' ? { ...result, tookOver: true } : result;
    };
    await deliver([aQueueRecord({ alert })]);
    expect(
      log.find('took over a claim that ran out (a delivery crashed or stalled); if it reached Squadcast, this one pages again')?.fields,
    ).toEqual({ alertId: alert.id });
    expect(sink.sent).toHaveLength(1);
  });

  it('says so when the record is written after the lease ran out (a second delivery may have sent it again)', async () => {
    let now = NOW.getTime();
    const { deliver, ledger, sink, log } = setup({ now: () => new Date(now) });
    ledger.leaseMs = 4_000;
    sink.respond = () => {
      now += 4_500;
      return { kind: 'delivered', status: 202 };
    };
    const alert = anAlert();
    await deliver([aQueueRecord({ alert })]);
    expect(log.find('incident recorded after its lease ran out; a second delivery may have sent it again')?.fields).toEqual({
      alertId: alert.id,
      lateMs: 500,
    });
    expect(ledger.stateOf(alert.id)).toBe('delivered');
  });
});

describe('deliverBatch: retry delays SQS accepts (12 hours from the receive)', () => {
  const LONG: RetryPolicy = { baseSeconds: 2, maxSeconds: 43_200, giveUpSeconds: 13 * 86_400, inFlightSeconds: 45 };
  const counting = () => {
    const counted: Array<[string, number]> = [];
    const metrics = {
      count: (metric: string, value = 1) => void counted.push([metric, value]),
      squadcastLatency: () => undefined,
      largest: () => undefined,
      flush: () => undefined,
    };
    return { counted, metrics };
  };
  /** Squadcast answers 429 with Retry-After `seconds`, and the batch has taken `batchSeconds` when it answers. */
  const run = async (retryAfterSeconds: number, batchSeconds: number) => {
    let now = NOW.getTime();
    const { counted, metrics } = counting();
    const context = setup({ retryPolicy: LONG, metrics, now: () => new Date(now) });
    context.sink.respond = () => {
      now += batchSeconds * 1000;
      return { kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: retryAfterSeconds * 1000 };
    };
    await context.deliver([waitedFor(HOUR_MS)]);
    return { ...context, counted: counted.filter(([metric]) => metric === 'retryClamped') };
  };

  it('keeps a delay that ends within 12 hours of the receive, less the margin, as it is', async () => {
    const { retries, counted, log } = await run(43_200 - 60, 0);
    expect(retries.calls.map((call) => call.seconds)).toEqual([43_140]);
    expect(counted).toEqual([]);
    expect(log.entries.filter((e) => e.message.startsWith('retry delays cut'))).toEqual([]);
  });

  it('cuts one a second longer to the limit, counts it and says so', async () => {
    const { retries, counted, log } = await run(43_200 - 59, 0);
    expect(retries.calls.map((call) => call.seconds)).toEqual([43_140]);
    expect(counted).toEqual([['retryClamped', 1]]);
    expect(log.entries).toContainEqual({
      level: 'warn',
      message: 'retry delays cut to what SQS allows (12 hours from the receive); those alerts come back sooner',
      fields: { clamped: 1, limitSeconds: 43_140 },
    });
  });

  it('counts the time the batch has taken against the 12 hours', async () => {
    const { retries, counted } = await run(43_200, 25);
    expect(retries.calls.map((call) => call.seconds)).toEqual([43_200 - 60 - 25]);
    expect(counted).toEqual([['retryClamped', 1]]);
  });
});

describe('deliverBatch: when Squadcast comes back', () => {
  const withWatch = ({ deferFirst: deferOne = true } = {}) => {
    let now = NOW.getTime();
    let deferFirst = deferOne;
    const context = setup({
      now: () => new Date(now),
      recovery: createRecoveryWatch({ outageMs: 30_000, maxParked: 100 }),
      // The first record ever offered is deferred by the rate ceiling, the rest go.
      rateLimit: {
        admit: async () => {
          if (!deferFirst) return { kind: 'send' };
          deferFirst = false;
          return { kind: 'later', delayMs: 60_000 };
        },
        pauseFor: () => undefined,
      },
    });
    return { ...context, at: (ms: number) => (now = NOW.getTime() + ms) };
  };

  it('makes the records it put back after a failed attempt visible at once, not those deferred, and only once', async () => {
    const { deliver, sink, retries, at } = withWatch();
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
    const [deferredRecord, failed] = [waitedFor(HOUR_MS), waitedFor(HOUR_MS)];
    await deliver([deferredRecord as QueueRecord, failed as QueueRecord]);
    at(40_000);
    await deliver([waitedFor(HOUR_MS)]);
    expect(retries.calls.filter((c) => c.seconds === 0)).toEqual([]);

    at(45_000);
    sink.answer({ kind: 'delivered', status: 202 });
    await deliver([aQueueRecord()]);
    expect(retries.calls.filter((c) => c.seconds === 0).map((c) => c.receiptHandle)).toEqual([failed?.receiptHandle, expect.any(String)]);
    expect(retries.calls.some((c) => c.receiptHandle === deferredRecord?.receiptHandle && c.seconds === 0)).toBe(false);

    at(90_000);
    await deliver([aQueueRecord()]);
    expect(retries.calls.filter((c) => c.seconds === 0)).toHaveLength(2);
  });

  it('a refusal (4xx) also shows that Squadcast answers again', async () => {
    const { deliver, sink, retries, at } = withWatch({ deferFirst: false });
    sink.answer({ kind: 'transient', reason: 'Squadcast request timed out', failure: 'timeout' });
    const failed = waitedFor(HOUR_MS);
    await deliver([failed]);
    at(31_000);
    sink.answer({ kind: 'permanent', reason: 'Squadcast answered 400', failure: 'refused' });
    await deliver([aQueueRecord()]);
    expect(retries.calls.filter((c) => c.seconds === 0)).toEqual([{ receiptHandle: failed.receiptHandle, seconds: 0 }]);
  });

  it('still answers the batch when making a woken record visible fails (it comes back on its own)', async () => {
    const { deliver, sink, retries, at } = withWatch({ deferFirst: false });
    sink.answer({ kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' });
    await deliver([waitedFor(HOUR_MS)]);
    at(60_000);
    sink.answer({ kind: 'delivered', status: 202 });
    retries.error = new Error('ReceiptHandleIsInvalid');
    const record = aQueueRecord();
    expect(await deliver([record])).toEqual({ failedMessageIds: [], outcomes: [{ kind: 'delivered' }] });
  });
});

describe('deliverBatch: while Squadcast is down (the circuit breaker)', () => {
  const down = { kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' } as const;
  /** A breaker opened by five failed sends, the first at NOW; `at` moves the clock (ms after NOW). */
  const opened = async (overrides: Partial<DeliverDeps> = {}) => {
    let now = NOW.getTime();
    const { gauges, metrics } = gaugeRecorder();
    const context = setup({
      now: () => new Date(now),
      metrics,
      concurrency: 1,
      breaker: createCircuitBreaker(circuitBreakerOptions(8_000)),
      ...overrides,
    });
    context.sink.answer(down);
    await context.deliver(Array.from({ length: 5 }, () => waitedFor(60_000)));
    context.sink.sent.length = 0;
    context.ledger.claims.length = 0;
    return { ...context, gauges, at: (ms: number) => (now = NOW.getTime() + ms) };
  };

  it('holds the rest of a batch back, unclaimed and unsent, on the retry schedule, saying since when Squadcast fails', async () => {
    const { deliver, sink, ledger, retries, gauges, log, at } = await opened();
    gauges.length = 0;
    retries.calls.length = 0;
    at(300);
    const result = await deliver([waitedFor(HOUR_MS), waitedFor(HOUR_MS)]);
    expect(sink.sent).toEqual([]);
    expect(ledger.claims).toEqual([]);
    expect(result.outcomes).toEqual([
      { kind: 'retry', reason: HELD_BACK, delaySeconds: 225 },
      { kind: 'retry', reason: HELD_BACK, delaySeconds: 225 },
    ]);
    expect(retries.calls.map((c) => c.seconds)).toEqual([225, 225]);
    expect(gauges.filter(([metric]) => metric === 'squadcastFailingFor')).toEqual([
      ['squadcastFailingFor', 0.3],
      ['squadcastFailingFor', 0.3],
    ]);
    expect(log.entries.filter((e) => e.message.startsWith('Squadcast failing'))).toEqual([
      { level: 'warn', message: 'Squadcast failing: alerts held back untried while a probe tests it; will retry', fields: { heldBack: 2 } },
    ]);
  });

  it('sends one probe per step; the others that found it due give their claim back and wait', async () => {
    const { deliver, sink, ledger, at } = await opened({ concurrency: 3 });
    at(504);
    const result = await deliver([waitedFor(HOUR_MS), waitedFor(HOUR_MS), waitedFor(HOUR_MS)]);
    expect(sink.sent).toHaveLength(1);
    expect(result.outcomes.map((o) => o.kind === 'retry' && o.reason)).toEqual(['Squadcast answered 503', HELD_BACK, HELD_BACK]);
    expect(ledger.claims).toHaveLength(3);
    expect(ledger.released.filter((_, i) => ledger.releasedFailures[i] === undefined)).toHaveLength(2);
    // The failed probe sets the next one a step later: until then nothing is even claimed.
    at(800);
    await deliver([waitedFor(HOUR_MS)]);
    expect(sink.sent).toHaveLength(1);
    expect(ledger.claims).toHaveLength(3);
  });

  it('the probe that gets through closes it, and what this container held back is made visible at once', async () => {
    const { deliver, sink, retries, at } = await opened({ recovery: createRecoveryWatch({ outageMs: 30_000, maxParked: 100 }) });
    at(20_000);
    await deliver([waitedFor(HOUR_MS)]);
    at(20_200);
    const parked = waitedFor(HOUR_MS);
    await deliver([parked]);
    expect(sink.sent).toHaveLength(1);
    at(40_000);
    sink.answer({ kind: 'delivered', status: 202 });
    const result = await deliver([waitedFor(HOUR_MS), waitedFor(HOUR_MS)]);
    expect(result.outcomes).toEqual([{ kind: 'delivered' }, { kind: 'delivered' }]);
    expect(retries.calls.filter((c) => c.seconds === 0).map((c) => c.receiptHandle)).toContain(parked.receiptHandle);
  });

  it('an alert whose give-up budget is spent still gets its attempt, and is dead-lettered when it fails', async () => {
    const { deliver, sink, deadLetters, at } = await opened();
    at(500);
    const result = await deliver([waitedFor(25 * HOUR_MS)]);
    expect(sink.sent).toHaveLength(1);
    expect(result.outcomes).toEqual([{ kind: 'dead-lettered' }]);
    expect(deadLetters.calls.flat()).toHaveLength(1);
  });
});

describe('deliverBatch: the same id with other content', () => {
  const versionOf = (alert: Record<string, unknown>, alertId: string) => {
    const fingerprint = fingerprintOf(alert);
    return { alertId, fingerprint: fingerprint.value, fields: fingerprint.fields, holdMs: 30 * 24 * 3_600_000 };
  };

  it('pages an alert resent under a delivered id with a raised severity and a new title, saying what changed', async () => {
    const { deliver, sink, ledger, log } = setup();
    const first = anAlert({ severity: 3, title: 'Host: a login' });
    const changed = { ...first, severity: 1 as const, title: 'Host: a root login' };
    ledger.seed(first.id, 'delivered', { version: versionOf(first, first.id), at: new Date('2023-11-14T20:00:00.000Z') });

    expect((await deliver([aQueueRecord({ alert: changed })])).outcomes).toEqual([{ kind: 'delivered' }]);

    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]?.priority).toBe('P1');
    expect(sink.sent[0]?.description).toContain(
      '**This alert reuses the id of an earlier alert**, delivered at `2023-11-14T20:00:00.000Z`. Changed since then: title, severity.',
    );
    expect(log.find('alert reuses the id of one delivered before; paged again')?.fields).toEqual({
      alertId: first.id,
      changed: ['title', 'severity'],
    });
  });

  it('an identical resend of a delivered alert is not sent again; an unknown extra field does not make it another alert', async () => {
    const { deliver, sink, ledger } = setup();
    const alert = anAlert();
    ledger.seed(alert.id, 'delivered', { version: versionOf(alert, alert.id), at: NOW });

    const outcomes = (
      await deliver([
        aQueueRecord({ alert }),
        aQueueRecord({ body: aQueuedAlertBody({ ...alert, added_by_threat_stack: 'x' } as typeof alert) }),
      ])
    ).outcomes;

    expect(outcomes).toEqual([{ kind: 'duplicate' }, { kind: 'duplicate' }]);
    expect(sink.sent).toEqual([]);
  });

  it('holds a derived id (an alert without a usable id) for an hour, a Threat Stack id for 30 days', async () => {
    const { deliver, ledger } = setup();
    const { id: _id, ...idless } = anAlert();
    await deliver([aQueueRecord({ body: JSON.stringify({ alert: idless }) }), aQueueRecord({ alert: anAlert() })]);
    expect(ledger.versions.map((version) => [version.alertId.startsWith('relay-derived-'), version.holdMs])).toEqual([
      [true, 3_600_000],
      [false, 30 * 24 * 3_600_000],
    ]);
  });
});

describe('deliverBatch: what holds an alert back, and for how long Squadcast has failed it', () => {
  const gaugesOf = gaugeRecorder;

  it('gives the age of every alert it leaves undelivered, whatever the reason: a failed send, a dependency, the ceiling, another lease', async () => {
    const { gauges, metrics } = gaugesOf();
    const [failing, broken, paced, held] = [anAlert(), anAlert(), anAlert(), anAlert()];
    let admitted = 0;
    const context = setup({
      metrics,
      rateLimit: {
        admit: async () => (admitted++ === 0 ? { kind: 'send' } : { kind: 'later', delayMs: 5_000 }),
        pauseFor: () => undefined,
      },
    });
    context.sink.respond = () => ({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
    context.ledger.seed(held.id, 'in-flight');
    const claim = context.ledger.claim.bind(context.ledger);
    context.ledger.claim = async (version, now) => {
      if (version.alertId === broken.id) throw Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' });
      return claim(version, now);
    };
    await context.deliver([
      waitedFor(60_000, { alert: failing }),
      waitedFor(120_000, { alert: broken }),
      waitedFor(180_000, { alert: paced }),
      waitedFor(240_000, { alert: held }),
    ]);
    expect(gauges.filter(([metric]) => metric === 'oldestHeldBackAlertAge').map(([, s]) => s)).toEqual([60, 120, 180, 240]);
  });

  it('measures a failing alert from its first failed send (the ledger remembers it), not from when it was queued', async () => {
    const { gauges, metrics } = gaugesOf();
    const { deliver, ledger, sink } = setup({ metrics });
    const alert = anAlert();
    ledger.failingSince(alert.id, new Date(NOW.getTime() - 480_000));
    sink.respond = () => ({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
    await deliver([waitedFor(3_600_000, { alert })]);
    expect(gauges).toEqual([
      ['squadcastFailingFor', 480],
      ['oldestHeldBackAlertAge', 3_600],
    ]);
  });

  it('tells the ledger of each failed send (its time, kept from the first, and its reason); a deferral tells nothing', async () => {
    const { deliver, ledger, sink } = setup({
      rateLimit: { admit: async () => ({ kind: 'send' }), pauseFor: () => undefined },
    });
    const alert = anAlert();
    sink.respond = () => ({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
    await deliver([waitedFor(60_000, { alert })]);
    expect(ledger.releasedFailures).toEqual([{ at: NOW, reason: 'Squadcast answered 503' }]);
    expect(ledger.entries.get(alert.id)).toMatchObject({ failingSince: NOW, lastFailure: 'Squadcast answered 503' });

    const paced = setup({ rateLimit: { admit: async () => ({ kind: 'later', delayMs: 1_000 }), pauseFor: () => undefined } });
    await paced.deliver([waitedFor(60_000)]);
    expect(paced.ledger.releasedFailures).toEqual([undefined]);
  });

  it('a move to the dead-letter queue ends the failing time and keeps the reason; a dead-letter queue that refuses leaves it failing', async () => {
    const refused = setup();
    const alert = anAlert();
    refused.ledger.failingSince(alert.id, new Date(NOW.getTime() - 60_000));
    refused.sink.answer({ kind: 'permanent', reason: 'Squadcast answered 401', failure: 'refused' });
    await refused.deliver([waitedFor(60_000, { alert })]);
    expect(refused.ledger.releasedFailures).toEqual([{ at: NOW, reason: 'Squadcast answered 401', deadLettered: true }]);
    expect(refused.ledger.entries.get(alert.id)).not.toHaveProperty('failingSince');
    expect(refused.ledger.entries.get(alert.id)).toMatchObject({ lastFailure: 'Squadcast answered 401' });

    const spent = setup();
    spent.sink.answer({ kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error' });
    await spent.deliver([waitedFor(86_400_000 + 60_000)]);
    expect(spent.ledger.releasedFailures).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('still failing after 24 h 1 min'), deadLettered: true }),
    ]);

    const down = setup();
    down.deadLetters.failAll();
    down.sink.answer({ kind: 'permanent', reason: 'Squadcast answered 401', failure: 'refused' });
    await down.deliver([waitedFor(60_000)]);
    expect(down.ledger.releasedFailures).toEqual([{ at: NOW, reason: 'Squadcast answered 401', deadLettered: false }]);
  });
});
