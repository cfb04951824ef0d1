import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type DynamoDBClient, PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { seededRandom } from '../../devkit/seeded-random';
import type { ChaosRequest, ChaosSquadcast } from '../helpers/chaos-squadcast';
import { startChaosSquadcast } from '../helpers/chaos-squadcast';
import type { EmulatorClients } from '../helpers/emulators';
import { emulatorClients, stopLocalStack } from '../helpers/emulators';
import type { EmulatorProcess } from '../helpers/local-processes';
import { relayEnv, startEmulatorProcess } from '../helpers/local-processes';
import type { RelaySupervisor } from '../helpers/relay-supervisor';
import { startRelaySupervisor } from '../helpers/relay-supervisor';

/**
 * Conservation under faults: the real relay (its own process, real handlers, the SQS and DynamoDB
 * emulators over their real protocols) against a Squadcast that misbehaves, while the relay is
 * SIGKILLed mid-batch three times (once exactly between a Squadcast 2xx and the ledger write) and a
 * share of deliver invocations fail before or after they run. Every alert answered 2xx must end in
 * exactly one of: an incident, or the dead-letter queue. Prints one line of figures.
 *
 * Nothing here depends on the machine's speed. The faults are seeded per alert and attempt (the
 * k-th request for an alert always meets the same behaviour), the injected deliver faults are
 * counted, the kills are triggered by events (the 40th incident, the 120th request, the end of the
 * posting), and every outcome is read from counts and the order of events, never from timings: a
 * second incident for an alert is explained only by the relay's own log of an answer it did not get
 * (a timeout or a network error), or by a kill that came between the two incidents.
 */
const SEED = Number(process.env.CHAOS_SEED ?? 7_311);
const TOKEN = 'conservation-token-0123456789abcdef';
const KEY = 'CHAOS-SQUADCAST-KEY-6b1f0e9a2c';
const PREFIX = 'conservation';
const ALERTS = 400;

const random = seededRandom(SEED);
/** A guard against a hang, never an outcome: everything below waits on events. */
const GUARD_MS = 240_000;
const refused = (id: string): boolean => id.endsWith('-x413');

interface Batch {
  readonly body: unknown;
  /** Distinct valid alert ids in the batch. */
  readonly ids: readonly string[];
  readonly invalid: number;
}

const alert = (id: string): Record<string, unknown> => {
  const asStrings = random() < 0.2;
  return {
    id,
    title: `Host:  chaos alert ${id}`,
    created_at: asStrings ? '1700000000123' : 1_700_000_000_123,
    severity: asStrings ? String(1 + Math.floor(random() * 3)) : 1 + Math.floor(random() * 3),
    organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
    server_or_region: `web-${Math.floor(random() * 9)}`,
    source: random() < 0.5 ? 'Host' : 'CloudTrail',
  };
};

/** Threat Stack-like traffic: batches of 1..16, some with a duplicate id, some with an element that is not an alert, every shape. */
const makeBatches = (): Batch[] => {
  const batches: Batch[] = [];
  let n = 0;
  while (n < ALERTS) {
    const size = Math.min(ALERTS - n, 1 + Math.floor(random() * 16));
    const ids = Array.from({ length: size }, () => {
      n += 1;
      return n % 20 === 0 ? `cons-${n}-x413` : `cons-${n}`;
    });
    const elements: unknown[] = ids.map(alert);
    if (random() < 0.15) elements.push({ ...(elements[0] as object) });
    const invalid = random() < 0.1 ? 1 : 0;
    // Not an object, so not an alert (a malformed object would page as a degraded alert).
    if (invalid) elements.push([`bad-${n}`]);
    const shape = random();
    const body = elements.length === 1 && shape < 0.3 ? elements[0] : shape < 0.15 ? elements : { alerts: elements };
    batches.push({ body, ids, invalid });
  }
  // Threat Stack may send a batch again: a few go twice.
  for (const batch of batches.slice(0, 3)) batches.push(batch);
  return batches;
};

let emulators: EmulatorProcess;
let squadcast: ChaosSquadcast;
let relay: RelaySupervisor;
let sqs: SQSClient;
let dynamodb: DynamoDBClient;
let clients: EmulatorClients;

const responses: string[] = [];
const accepted = new Set<string>();
let posts = 0;
let postRetries = 0;
let rejectedAtIngest = 0;

const queueUrl = async (name: string): Promise<string> =>
  (await sqs.send(new GetQueueUrlCommand({ QueueName: `${PREFIX}-${name}` }))).QueueUrl ?? '';

const pendingInAlertsQueue = async (): Promise<number> => {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queueUrl('alerts'),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
  );
};

/** Posts like Threat Stack would: again and again until the relay answers 200. */
const postUntilAccepted = async (batch: Batch, deadline: number): Promise<void> => {
  for (;;) {
    if (Date.now() > deadline) throw new Error('a batch was never accepted');
    posts += 1;
    try {
      const response = await fetch(`${relay.baseUrl()}/threatstack/${TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch.body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      responses.push(text);
      if (response.status === 200) {
        const json = JSON.parse(text) as { accepted: number; rejected: number };
        expect(json.accepted).toBe(batch.ids.length);
        expect(json.rejected).toBe(batch.invalid);
        if (!accepted.has(batch.ids[0] ?? '')) rejectedAtIngest += json.rejected;
        for (const id of batch.ids) accepted.add(id);
        return;
      }
      // Only an outage may refuse a valid batch, and an outage is 503, never 4xx.
      expect(response.status).toBe(503);
    } catch (error) {
      if ((error as { matcherResult?: unknown }).matcherResult !== undefined) throw error;
      // The relay is being killed or restarted: Threat Stack would try again.
    }
    postRetries += 1;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
};

const readDeadLetters = async (): Promise<Array<Record<string, unknown>>> => {
  const url = await queueUrl('dead-letter');
  const letters: Array<Record<string, unknown>> = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 600, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) {
      empty += 1;
      continue;
    }
    letters.push(...Messages.map((message) => JSON.parse(message.Body ?? '{}') as Record<string, unknown>));
  }
  return letters;
};

const scanLedger = async (): Promise<Array<Record<string, AttributeValue>>> => {
  const items: Array<Record<string, AttributeValue>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: `${PREFIX}-ledger`, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
};

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);
};

beforeAll(async () => {
  [emulators, squadcast] = await Promise.all([
    startEmulatorProcess(),
    startChaosSquadcast({
      key: KEY,
      seed: SEED,
      slowMs: 700,
      refuses: refused,
      // A Retry-After holds back every send of the relay for its length (1 s here), so it stays rare.
      odds: { 'error-500': 0.08, 'throttle-retry-after': 0.015, throttle: 0.06, 'slow-accept': 0.03, 'slow-fail': 0.03, reset: 0.05 },
    }),
  ]);
  clients = emulatorClients(emulators);
  ({ sqs, dynamodb } = clients);
  relay = await startRelaySupervisor({
    ...relayEnv(emulators, { token: TOKEN, squadcastUrl: squadcast.url, prefix: PREFIX }),
    LOCAL_VISIBILITY_TIMEOUT_SECONDS: '3',
    // High enough that chaos never exhausts a deliverable alert; a redriven one would count as dead-lettered.
    LOCAL_MAX_RECEIVE_COUNT: '100',
    LOCAL_FAULT_DELIVER_FAILURE_RATE: '0.06',
    DELIVERY_RETRY_BASE_SECONDS: '1',
    DELIVERY_RETRY_MAX_SECONDS: '2',
    DELIVERY_LEASE_MS: '2000',
    SQUADCAST_TIMEOUT_MS: '500',
    // One local process = one limiter; 6000 a minute keeps the ceiling in play without slowing the run much.
    SQUADCAST_MAX_PER_MINUTE: '6000',
    DELIVERY_MAX_INVOCATIONS: '1',
  });
}, 150_000);

afterAll(() => stopLocalStack({ clients, relay, emulators, squadcast }));

let deadLetters: Array<Record<string, unknown>> = [];

test(
  'nothing accepted is lost: every alert answered 200 ends as exactly one incident or in the dead-letter queue',
  async () => {
    const started = Date.now();
    const deadline = started + GUARD_MS;
    const batches = makeBatches();
    /** For each kill, how many Squadcast requests had arrived before it: kills and requests in one order. */
    const killedAfterRequest: number[] = [];

    // Crash 1: SIGKILL exactly between Squadcast's 2xx and the ledger write, on the 40th incident created.
    squadcast.beforeCreatedAnswer((request) => {
      if (squadcast.requests.filter((r) => r.created).length < 40) return;
      squadcast.beforeCreatedAnswer(undefined);
      killedAfterRequest.push(squadcast.requests.length);
      void relay.killAndRestart(`between Squadcast 2xx and the ledger write (event ${request.eventId})`);
    });
    const kill = async (reason: string): Promise<void> => {
      killedAfterRequest.push(squadcast.requests.length);
      await relay.killAndRestart(reason);
    };
    let postingDone = false;
    // Crashes 2 and 3: SIGKILL at arbitrary points, mid-posting and mid-retries.
    const killer = (async () => {
      while (squadcast.requests.length < 120 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await relay.settled();
      await kill('mid-run, while batches are being posted and delivered');
      while (!(postingDone && squadcast.requests.filter((r) => r.created).length >= 300) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      await relay.settled();
      await kill('mid-drain, while failed deliveries are being retried');
    })();

    // Four senders, each posting a batch every 400 ms or so, so that the crashes also hit ingest.
    const work = [...batches];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let batch = work.shift(); batch !== undefined; batch = work.shift()) {
          await postUntilAccepted(batch, deadline);
          await new Promise((resolve) => setTimeout(resolve, 50 + random() * 150));
        }
      }),
    );
    postingDone = true;
    await killer;
    await relay.settled();

    const created = (): Set<string> =>
      new Set(squadcast.requests.filter((r) => r.created && r.eventId !== undefined).map((r) => r.eventId as string));
    const refusedIds = [...accepted].filter(refused);
    const settled = async (): Promise<boolean> => {
      const delivered = created();
      const refusedSeen = new Set(squadcast.requests.filter((r) => r.behaviour === 'too-large').map((r) => r.eventId));
      return [...accepted].every((id) => (refused(id) ? refusedSeen.has(id) : delivered.has(id))) && (await pendingInAlertsQueue()) === 0;
    };
    while (!(await settled())) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The alerts queue counts messages in flight too: once it is empty, no delivery is under way,
    // and no late duplicate can still come.
    expect(await pendingInAlertsQueue()).toBe(0);
    deadLetters = await readDeadLetters();
    const ledger = await scanLedger();

    // --- The books --------------------------------------------------------------------------
    const delivered = created();
    const deadLetteredIds = new Set(
      deadLetters.flatMap((letter) =>
        (letter.alert as { id?: unknown } | undefined)?.id !== undefined ? [String((letter.alert as { id: unknown }).id)] : [],
      ),
    );
    const redriven = deadLetters.filter((letter) => letter.alert !== undefined && letter.failure === undefined).length;
    const rejectedLetters = deadLetters.filter((letter) => (letter.failure as { stage?: string } | undefined)?.stage === 'ingest').length;
    const lost = [...accepted].filter((id) => !delivered.has(id) && !deadLetteredIds.has(id));
    const both = [...accepted].filter((id) => delivered.has(id) && deadLetteredIds.has(id));

    // Duplicates: each creation of an incident after the first, explained by what the relay saw of the
    // one before. Counted from the relay's own log and the order of events, never from timings.
    const relayLines = relay
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { message?: string; alertId?: string; reason?: string; recordMs?: number });
    /** Per alert: attempts the relay logged as failed without an answer, so it could not know Squadcast had acted. */
    const answersMissed = new Map<string, number>();
    for (const line of relayLines)
      if (line.message === 'delivery failed; will retry' && /timed out|network error/.test(line.reason ?? '') && line.alertId)
        answersMissed.set(line.alertId, (answersMissed.get(line.alertId) ?? 0) + 1);
    /**
     * Per alert: what the relay logged of a lease that ran out, on either side: a record written after
     * it, or a claim that took over one (its holder crashed or stalled, perhaps after Squadcast acted).
     */
    const LEASE_RAN_OUT = [
      'incident recorded after its lease ran out; a second delivery may have sent it again',
      'took over a claim that ran out (a delivery crashed or stalled); if it reached Squadcast, this one pages again',
    ];
    const lateRecords = new Map<string, number>();
    for (const line of relayLines)
      if (LEASE_RAN_OUT.includes(line.message ?? '') && line.alertId)
        lateRecords.set(line.alertId, (lateRecords.get(line.alertId) ?? 0) + 1);
    const byId = new Map<string, ChaosRequest[]>();
    for (const request of squadcast.requests)
      if (request.created && request.eventId !== undefined) byId.set(request.eventId, [...(byId.get(request.eventId) ?? []), request]);
    let crashWindow = 0;
    let timeoutWindow = 0;
    let leaseWindow = 0;
    const unexplained: string[] = [];
    for (const [id, creations] of byId) {
      let missed = answersMissed.get(id) ?? 0;
      let late = lateRecords.get(id) ?? 0;
      creations.slice(1).forEach((creation, i) => {
        const previous = creations[i] as ChaosRequest;
        if (missed > 0) {
          // The relay logged that it got no answer: it could not know the incident existed.
          missed -= 1;
          timeoutWindow += 1;
        } else if (killedAfterRequest.some((after) => after > previous.seq && after <= creation.seq)) {
          // Killed after Squadcast acted on the previous request and before this one: the record may not
          // have been written (the restarted relay then logs that it took over the claim; that line is this crash's).
          crashWindow += 1;
          if (late > 0) late -= 1;
        } else if (late > 0) {
          // The relay logged that it recorded the incident after its lease ran out (a machine too busy to
          // keep to the lease): a second delivery of the same alert could claim it in between.
          late -= 1;
          leaseWindow += 1;
        } else unexplained.push(id);
      });
    }
    const duplicates = crashWindow + timeoutWindow + leaseWindow + unexplained.length;

    const recordMs = relayLines
      .filter((line) => line.message === 'incident delivered')
      .map((line) => Number(line.recordMs))
      .filter((ms) => Number.isFinite(ms));
    const injectedFaults = (relay.output().match(/InjectedFault/g) ?? []).length;
    const heldByLease = (relay.output().match(/another delivery holds the alert/g) ?? []).length;
    const behaviours = squadcast.requests.reduce<Record<string, number>>((acc, r) => {
      acc[r.behaviour] = (acc[r.behaviour] ?? 0) + 1;
      return acc;
    }, {});
    const strandedClaims = ledger.filter((item) => item.state?.S === 'in-flight').length;
    const ledgerDelivered = ledger.filter((item) => item.state?.S === 'delivered').length;

    console.log(
      `conservation: seed=${SEED} accepted=${accepted.size} delivered=${delivered.size} duplicates=${duplicates} (crashWindow=${crashWindow} timeoutWindow=${timeoutWindow} leaseWindow=${leaseWindow} unexplained=${unexplained.length})` +
        ` deadLettered=${deadLetteredIds.size} (refused413=${refusedIds.length} redriven=${redriven} letters=${deadLetters.length - rejectedLetters}) rejectedAtIngest=${rejectedAtIngest} (letters=${rejectedLetters}) lost=${lost.length}` +
        ` crashes=${relay.kills.length} injectedFaults=${injectedFaults} squadcastRequests=${squadcast.requests.length} ${JSON.stringify(behaviours)}` +
        ` posts=${posts} postRetries=${postRetries} ledgerDelivered=${ledgerDelivered} strandedClaims=${strandedClaims} heldByLease=${heldByLease}` +
        ` recordMs(p50/p99/max)=${percentile(recordMs, 50)}/${percentile(recordMs, 99)}/${Math.max(...recordMs)} wallSeconds=${((Date.now() - started) / 1000).toFixed(1)}`,
    );

    expect(lost).toEqual([]);
    expect(both).toEqual([]);
    expect(unexplained).toEqual([]);
    expect(accepted.size).toBe(ALERTS);
    expect(relay.kills).toHaveLength(3);
    expect(injectedFaults).toBeGreaterThan(0);
    // Every refused alert is in the dead-letter queue with Squadcast's reason; nothing deliverable is.
    expect([...deadLetteredIds].sort()).toEqual(refusedIds.sort());
    expect(
      deadLetters
        .filter((letter) => (letter.failure as { stage?: string } | undefined)?.stage === 'deliver')
        .every((letter) => (letter.failure as { reason: string }).reason === 'Squadcast answered 413'),
    ).toBe(true);
    // Every alert refused at ingest is in the dead-letter queue (twice if its batch was sent again).
    const rejectedIds = new Set(
      deadLetters
        .filter((letter) => (letter.failure as { stage?: string } | undefined)?.stage === 'ingest')
        .map((letter) => (letter.raw as string[])[0]),
    );
    expect(rejectedIds.size).toBe(rejectedAtIngest);
    expect(rejectedLetters).toBeGreaterThanOrEqual(rejectedAtIngest);
    // The ledger agrees with Squadcast: every incident recorded once, no claim left stranded by a crash.
    expect(ledgerDelivered).toBe(delivered.size);
    expect(strandedClaims).toBe(0);
  },
  GUARD_MS + 30_000,
);

test('neither the webhook token nor the Squadcast key appears in any log line, response or dead letter of the run', () => {
  // The local banner prints the local webhook URL on purpose (it is how `npm start` is used).
  const logs = relay
    .output()
    .split('\n')
    .filter((line) => !/webhook \(POST\)/.test(line));
  expect(logs.length).toBeGreaterThan(100);
  expect(responses.length).toBeGreaterThan(0);
  for (const text of [...logs, ...responses, ...deadLetters.map((letter) => JSON.stringify(letter))]) {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(KEY);
  }
});

test('a claim left in flight by a crashed delivery holds the alert back while its lease is live, then it is delivered once', async () => {
  squadcast.calm();
  const id = 'stranded-claim-1';
  const ledgerKey = { pk: { S: `alert#${id}` } };
  // What a delivery SIGKILLed between its claim and its POST leaves behind, with a lease that would hold for an hour.
  await dynamodb.send(
    new PutItemCommand({
      TableName: `${PREFIX}-ledger`,
      Item: { ...ledgerKey, state: { S: 'in-flight' }, leaseToken: { S: 'crashed' }, leaseUntil: { N: String(Date.now() + 3_600_000) } },
    }),
  );
  await postUntilAccepted({ body: { alerts: [alert(id)] }, ids: [id], invalid: 0 }, Date.now() + GUARD_MS);
  const heldBack = (): boolean =>
    relay
      .output()
      .split('\n')
      .some((line) => line.includes('another delivery holds the alert') && line.includes(`"alertId":"${id}"`));
  await until('deliver to meet the stranded claim', heldBack);
  expect(squadcast.requests.filter((r) => r.eventId === id)).toEqual([]);

  // The lease runs out (set in the past, rather than waited for): the next attempt takes the claim over.
  const requestsBeforeExpiry = squadcast.requests.length;
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: `${PREFIX}-ledger`,
      Key: ledgerKey,
      UpdateExpression: 'SET leaseUntil = :past',
      ExpressionAttributeValues: { ':past': { N: '0' } },
    }),
  );
  await until('the alert delivered', () => squadcast.requests.some((r) => r.eventId === id && r.created));
  const sends = squadcast.requests.filter((r) => r.eventId === id);
  expect(sends).toHaveLength(1);
  expect(sends[0]?.seq).toBeGreaterThanOrEqual(requestsBeforeExpiry);
});

/** Waits for an event; the guard only turns a hang into a failure that says what never happened. */
const until = async (what: string, done: () => boolean): Promise<void> => {
  const guard = Date.now() + GUARD_MS / 4;
  while (!done()) {
    if (Date.now() > guard) throw new Error(`waited in vain for ${what}:\n${relay.output().slice(-4_000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
