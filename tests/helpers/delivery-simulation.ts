/**
 * A virtual-time model of the deliver side: an SQS queue with visibility timeouts, receive counts
 * and a redrive policy; a ledger with the DynamoDB ledger's rules (leases expire); Lambda
 * "containers" that poll the queue like the event source mapping and call the real `deliverBatch`.
 * Time is simulated, so minutes of rate limiting run in milliseconds and nothing depends on the
 * machine's speed.
 */

import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { Alert } from '../../lib/alert/codec';
import type { Logger } from '../../lib/common/logger';
import { circuitBreakerOptions, createCircuitBreaker } from '../../lib/delivery/circuit-breaker';
import { deliverBatch } from '../../lib/delivery/deliver-batch';
import { readDeliverConfig } from '../../lib/delivery/deliver-config';
import { maxWaitForTurnMs } from '../../lib/delivery/lease-budget';
import { createRateLimiter, shareOfCeiling } from '../../lib/delivery/rate-limit';
import type { DeliverDeps, QueueRecord } from '../../lib/delivery/record-outcome';
import { createRecoveryWatch, RECOVERY_WATCH } from '../../lib/delivery/recovery-watch';
import { BACKSTOP_RECEIVES, retryPolicyFrom } from '../../lib/delivery/retry-budget';
import type { SendOutcome } from '../../lib/delivery/send-outcome';
import { toBatchResponse, toQueueRecord } from '../../lib/delivery/sqs-event';
import type { SquadcastIncident } from '../../lib/incident/to-incident';
import type { AlertVersion, ClaimResult, DeliveryLedger, FailedSend, Lease } from '../../lib/ledger/ledger';
import type { MessageQueue, OutboundMessage, RetryScheduler } from '../../lib/queue/message-queue';
import type { Telemetry } from '../../lib/telemetry/telemetry';
import { instrumented } from '../../lib/telemetry/telemetry';
import { inertDeliverDeps, noBreaker, noMetrics, noRecoveryWatch } from './fakes';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/** Earlier first; among timers due at once, the one set first (`seq`). */
const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * A binary min-heap of timers: a day-long simulation sets hundreds of thousands of them, and
 * re-sorting the whole list for every tick made those runs quadratic.
 */
export class TimerHeap {
  readonly #items: Timer[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(timer: Timer): void {
    const items = this.#items;
    items.push(timer);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as Timer, items[parent] as Timer)) break;
      [items[i], items[parent]] = [items[parent] as Timer, items[i] as Timer];
      i = parent;
    }
  }

  pop(): Timer | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    for (let i = 0; ; ) {
      const [left, right] = [2 * i + 1, 2 * i + 2];
      let smallest = i;
      if (left < items.length && before(items[left] as Timer, items[smallest] as Timer)) smallest = left;
      if (right < items.length && before(items[right] as Timer, items[smallest] as Timer)) smallest = right;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest] as Timer, items[i] as Timer];
      i = smallest;
    }
    return top;
  }
}

/** Timers that fire only when `run` advances the clock, earliest first. */
export class VirtualClock {
  now = 0;
  readonly #timers = new TimerHeap();
  #seq = 0;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.#timers.push({ at: this.now + Math.max(0, ms), seq: this.#seq++, resolve });
    });

  /** Advances time timer by timer until `done()` holds; throws if everything waits on nothing. */
  async run(done: () => boolean, maxVirtualMs: number): Promise<void> {
    for (;;) {
      // Let every promise chain that can move without time move first.
      await new Promise((resolve) => setImmediate(resolve));
      if (done()) return;
      const next = this.#timers.pop();
      if (next === undefined) throw new Error('simulation stalled: nothing is waiting on time');
      if (next.at > maxVirtualMs) throw new Error(`simulation ran past ${maxVirtualMs} ms of virtual time`);
      this.now = next.at;
      next.resolve();
    }
  }
}

interface SimMessage {
  readonly id: string;
  readonly body: string;
  /** SentTimestamp. */
  readonly sentAt: number;
  visibleAt: number;
  receiveCount: number;
  receipt: string;
}

/** SQS semantics that matter here: visibility, ChangeMessageVisibility, receive counts, redrive. */
export class SimulatedQueue {
  readonly messages = new Map<string, SimMessage>();
  /** Bodies SQS moved to the dead-letter queue itself (maxReceiveCount reached). */
  readonly redriven: string[] = [];
  /** The highest ApproximateReceiveCount any message reached. */
  maxReceiveCountSeen = 0;
  #ids = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly visibilityTimeoutMs: number,
    private readonly maxReceiveCount: number,
  ) {}

  send(body: string): void {
    const id = `m-${++this.#ids}`;
    this.messages.set(id, { id, body, sentAt: this.clock.now, visibleAt: this.clock.now, receiveCount: 0, receipt: '' });
  }

  receive(max: number): QueueRecord[] {
    const visible = [...this.messages.values()].filter((m) => m.visibleAt <= this.clock.now).slice(0, max);
    const records: QueueRecord[] = [];
    for (const message of visible) {
      if (message.receiveCount >= this.maxReceiveCount) {
        this.messages.delete(message.id);
        this.redriven.push(message.body);
        continue;
      }
      message.receiveCount += 1;
      this.maxReceiveCountSeen = Math.max(this.maxReceiveCountSeen, message.receiveCount);
      message.visibleAt = this.clock.now + this.visibilityTimeoutMs;
      message.receipt = `${message.id}#${message.receiveCount}`;
      records.push({
        messageId: message.id,
        body: message.body,
        receiptHandle: message.receipt,
        receiveCount: message.receiveCount,
        sentAtMs: message.sentAt,
      });
    }
    return records;
  }

  delete(receipt: string): void {
    const [id] = receipt.split('#');
    const message = this.messages.get(id ?? '');
    if (message?.receipt === receipt) this.messages.delete(message.id);
  }

  readonly retries: RetryScheduler = {
    retryAfter: async (receipt, seconds) => {
      const [id] = receipt.split('#');
      const message = this.messages.get(id ?? '');
      if (message?.receipt === receipt) message.visibleAt = this.clock.now + Math.min(43_200, Math.ceil(seconds)) * 1000;
    },
  };

  /** The next time a message becomes visible, if any. */
  nextVisibleAt(): number | undefined {
    const times = [...this.messages.values()].map((m) => m.visibleAt);
    return times.length === 0 ? undefined : Math.min(...times);
  }
}

/** A failure the simulated ledger raises for one call (a missing table, throttling), or none. */
export type LedgerFault = (at: number, call: 'claim' | 'complete' | 'release') => Error | undefined;

/** A DynamoDB error as the SDK raises it: its `name` is the exception's. */
export const dynamoDbError = (name: string): Error => Object.assign(new Error(`simulated ${name}`), { name });

interface SimLedgerItem {
  readonly state: 'in-flight' | 'delivered' | 'failed';
  readonly token: string;
  readonly leaseUntil: number;
  /** The first failed send since the last delivery (lib/ledger/dynamodb-ledger.ts keeps it the same way). */
  readonly failingSince?: number;
}

/** The DynamoDB ledger's conditions, on virtual time. */
export class SimulatedLedger implements DeliveryLedger {
  readonly items = new Map<string, SimLedgerItem>();
  #tokens = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly leaseMs: number,
    private readonly fault: LedgerFault = () => undefined,
  ) {}

  #call(call: 'claim' | 'complete' | 'release'): void {
    const error = this.fault(this.clock.now, call);
    if (error !== undefined) throw error;
  }

  async claim({ alertId }: AlertVersion): Promise<ClaimResult> {
    this.#call('claim');
    const item = this.items.get(alertId);
    if (item?.state === 'delivered') return { kind: 'already-delivered' };
    if (item !== undefined && item.leaseUntil >= this.clock.now) return { kind: 'in-flight' };
    const token = `t${++this.#tokens}`;
    const until = this.clock.now + this.leaseMs;
    const failingSince = item?.failingSince;
    this.items.set(alertId, { state: 'in-flight', token, leaseUntil: until, ...(failingSince === undefined ? {} : { failingSince }) });
    return {
      kind: 'claimed',
      lease: { version: { alertId, fingerprint: '', fields: {}, holdMs: 0 }, token, until },
      ...(failingSince === undefined ? {} : { failingSince: new Date(failingSince) }),
    };
  }

  async complete(lease: Lease): Promise<void> {
    this.#call('complete');
    this.items.set(lease.version.alertId, { state: 'delivered', token: '', leaseUntil: 0 });
  }

  async release(lease: Lease, failure?: FailedSend): Promise<void> {
    this.#call('release');
    const item = this.items.get(lease.version.alertId);
    if (item?.token !== lease.token) return;
    const failingSince = failure?.deadLettered === true ? undefined : (item.failingSince ?? failure?.at.getTime());
    this.items.set(lease.version.alertId, {
      state: 'failed',
      token: '',
      leaseUntil: 0,
      ...(failingSince === undefined ? {} : { failingSince }),
    });
  }
}

export const collectingQueue = (): MessageQueue & { readonly bodies: string[] } => {
  const bodies: string[] = [];
  return {
    bodies,
    sendAll: async (messages: readonly OutboundMessage[]) => {
      bodies.push(...messages.map((m) => m.body));
      return { failedKeys: [] };
    },
  };
};

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What a container invokes with a batch: `deliverBatch` itself, or the deliver handler built around it. */
export type DeliverInvocation = (records: QueueRecord[]) => Promise<{ readonly failedMessageIds: readonly string[] }>;

/** The SQS event Lambda's event source mapping would build from the records. */
const asSqsEvent = (records: readonly QueueRecord[]): SQSEvent => ({
  Records: records.map(
    (record): SQSRecord => ({
      messageId: record.messageId,
      receiptHandle: record.receiptHandle,
      body: record.body,
      attributes: {
        ApproximateReceiveCount: String(record.receiveCount),
        SentTimestamp: String(record.sentAtMs ?? ''),
        SenderId: 'simulated',
        ApproximateFirstReceiveTimestamp: String(record.sentAtMs ?? ''),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:alerts',
      awsRegion: 'us-east-1',
    }),
  ),
});

/**
 * The deliver handler as handlers/deliver.ts builds it (instrumented: metrics published when each
 * invocation ends; SQS event in, batchItemFailures out), around simulated dependencies.
 */
export const deliverHandlerWith =
  (telemetry: Telemetry, deps: DeliverDeps): DeliverInvocation =>
  async (records) => {
    const handler = instrumented(telemetry, async (event: SQSEvent) =>
      toBatchResponse(await deliverBatch(event.Records.map(toQueueRecord), deps)),
    );
    const response = await handler(asSqsEvent(records));
    return { failedMessageIds: response.batchItemFailures.map((failure) => failure.itemIdentifier) };
  };

/**
 * One Lambda container: receive up to `batchSize`, invoke deliver, delete what did not fail.
 * Like the event source mapping, an empty receive waits (here: until the next message is due).
 */
export const runContainer = async (
  queue: SimulatedQueue,
  clock: VirtualClock,
  invoke: DeliverInvocation,
  stop: () => boolean,
  batchSize = 10,
): Promise<void> => {
  while (!stop()) {
    const records = queue.receive(batchSize);
    if (records.length === 0) {
      // A long poll: back after a second at most, sooner if a message is due.
      const next = queue.nextVisibleAt();
      await clock.sleep(next === undefined ? 1_000 : Math.min(1_000, Math.max(20, next - clock.now)));
      continue;
    }
    const result = await invoke(records);
    const failed = new Set(result.failedMessageIds);
    for (const record of records) if (!failed.has(record.messageId)) queue.delete(record.receiptHandle);
  }
};

/** The largest number of `times` that fall in any window [t, t + windowMs). */
export const maxInWindow = (times: readonly number[], windowMs: number): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
};

// ---------------------------------------------------------------------------------------------
// The whole deliver side on the virtual clock: alerts queued at given times, a Squadcast that
// answers as the scenario says, deliver containers with the shipped defaults (serverless.yml and
// lib/config/env.ts), each with its own rate limiter. Used by the retry-budget and outage tests.

/** What the simulated Squadcast does with one request: how long it takes, and its answer. */
export interface SimulatedAnswer {
  readonly latencyMs: number;
  readonly outcome: SendOutcome;
}

export interface RelaySimulationOptions {
  /** When each alert is queued (ingest's 200), in virtual ms; alert i is `alert-<i>`. */
  readonly arrivals: readonly number[];
  readonly squadcast: (at: number, eventId: string) => SimulatedAnswer;
  /** SQUADCAST_MAX_PER_MINUTE; the shipped default is 150. */
  readonly ceilingPerMinute: number;
  /** The event source mapping's maximumConcurrency (serverless.yml: 2). */
  readonly containers?: number;
  /** Extra deliver settings, as environment variables (DELIVERY_GIVE_UP_HOURS...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Leaves out the recovery watch, to show what it changes. */
  readonly withoutRecoveryWatch?: boolean;
  /** Leaves out the circuit breaker (every record is attempted, as before it), to show what it changes. */
  readonly withoutBreaker?: boolean;
  /** Drives the jitter; a seeded one makes the run repeatable. */
  readonly random: () => number;
  /**
   * When given, every container runs the deliver handler (instrumented) with its own telemetry, as
   * each Lambda container has: its log and metrics lines are what the relay prints.
   */
  readonly telemetry?: () => Telemetry;
  /** The run ends when this holds (default: the queue is empty), or fails past `maxVirtualMs`. */
  readonly until?: (run: RelaySimulation) => boolean;
  readonly maxVirtualMs: number;
  /** The clock to run on (a test that stamps what is printed with the simulated time passes its own). */
  readonly clock?: VirtualClock;
  /** What the ledger fails with, and when (default: never). */
  readonly ledgerFault?: LedgerFault;
  /** When deliver starts polling, in virtual ms (default 0): before it, alerts only queue up, as with deliver stopped. */
  readonly deliverStartsAt?: number;
}

export interface SimulatedSend {
  readonly at: number;
  readonly eventId: string;
  readonly answeredAt: number;
  readonly outcome: SendOutcome['kind'];
}

export interface RelaySimulation {
  readonly clock: VirtualClock;
  readonly queue: SimulatedQueue;
  readonly ledger: SimulatedLedger;
  readonly deadLetters: ReturnType<typeof collectingQueue>;
  /** When each dead letter was sent, in virtual ms. */
  readonly deadLetteredAt: number[];
  readonly sends: SimulatedSend[];
  /** alert id -> when it was queued. */
  readonly queuedAt: Map<string, number>;
  /** alert id -> when Squadcast accepted it (the first time). */
  readonly deliveredAt: Map<string, number>;
}

/** The deliver settings serverless.yml ships, overridden by `env`, as the real config reads them. */
export const shippedDeliverConfig = (env: Readonly<Record<string, string>> = {}) =>
  readDeliverConfig({
    ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/alerts',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/dead-letter',
    LEDGER_TABLE_NAME: 'ledger',
    SQUADCAST_WEBHOOK_URL: 'https://api.squadcast.com/v2/incidents/api/SIMULATED',
    ...env,
  });

export const simulateRelay = async (options: RelaySimulationOptions): Promise<RelaySimulation> => {
  const config = shippedDeliverConfig({ SQUADCAST_MAX_PER_MINUTE: String(options.ceilingPerMinute), ...options.env });
  const containers = options.containers ?? 2;
  const clock = options.clock ?? new VirtualClock();
  // serverless.yml: visibility timeout 180 s, maxReceiveCount = the backstop.
  const queue = new SimulatedQueue(clock, 180_000, BACKSTOP_RECEIVES);
  const ledger = new SimulatedLedger(clock, config.leaseMs, options.ledgerFault);
  const run: RelaySimulation = {
    clock,
    queue,
    ledger,
    deadLetters: collectingQueue(),
    deadLetteredAt: [],
    sends: [],
    queuedAt: new Map(),
    deliveredAt: new Map(),
  };
  const order = options.arrivals.map((at, i) => ({ at, id: `alert-${i}` })).sort((a, b) => a.at - b.at);
  let next = 0;
  const done = (): boolean => next === order.length && (options.until ? options.until(run) : queue.messages.size === 0);

  const arrivals = (async () => {
    for (const { at, id } of order) {
      if (at > clock.now) await clock.sleep(at - clock.now);
      queue.send(JSON.stringify({ alert: simulatedAlert(id), receivedAt: new Date(clock.now).toISOString() }));
      run.queuedAt.set(id, clock.now);
      next += 1;
    }
  })();

  const deadLetters: MessageQueue = {
    sendAll: async (messages) => {
      for (const _ of messages) run.deadLetteredAt.push(clock.now);
      return run.deadLetters.sendAll(messages);
    },
  };
  const depsFor = (telemetry: Telemetry | undefined): DeliverDeps => ({
    sink: {
      send: async (incident: SquadcastIncident) => {
        const at = clock.now;
        const answer = options.squadcast(at, incident.event_id);
        await clock.sleep(answer.latencyMs);
        run.sends.push({ at, eventId: incident.event_id, answeredAt: clock.now, outcome: answer.outcome.kind });
        if (answer.outcome.kind === 'delivered' && !run.deliveredAt.has(incident.event_id))
          run.deliveredAt.set(incident.event_id, clock.now);
        return answer.outcome;
      },
    },
    ledger,
    deadLetters,
    retries: queue.retries,
    retryPolicy: retryPolicyFrom(config),
    concurrency: config.concurrency,
    ...inertDeliverDeps(),
    log: telemetry?.log ?? silentLogger,
    metrics: telemetry?.metrics ?? noMetrics,
    now: () => new Date(clock.now),
    random: options.random,
    rateLimit: createRateLimiter({
      perMinute: shareOfCeiling(config.maxPerMinute, containers),
      maxWaitMs: maxWaitForTurnMs(config),
      limiters: containers,
      now: () => clock.now,
      sleep: clock.sleep,
    }),
    recovery: options.withoutRecoveryWatch ? noRecoveryWatch : createRecoveryWatch(RECOVERY_WATCH),
    breaker: options.withoutBreaker ? noBreaker : createCircuitBreaker(circuitBreakerOptions(config.squadcastTimeoutMs)),
  });
  const loops = Array.from({ length: containers }, async () => {
    const telemetry = options.telemetry?.();
    const deps = depsFor(telemetry);
    if (options.deliverStartsAt !== undefined) await clock.sleep(options.deliverStartsAt);
    return runContainer(queue, clock, telemetry ? deliverHandlerWith(telemetry, deps) : (records) => deliverBatch(records, deps), done);
  });
  await clock.run(done, options.maxVirtualMs);
  void loops;
  void arrivals;
  return run;
};

const simulatedAlert = (id: string): Alert => ({
  id,
  title: `simulated ${id}`,
  created_at: 1_700_000_000_000,
  severity: 2,
  organization_id: 'o',
  server_or_region: 'h',
  source: 'Host',
});
