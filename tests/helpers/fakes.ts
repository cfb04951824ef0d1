/**
 * In-memory fakes of the relay's ports (MessageQueue, RetryScheduler, DeliveryLedger,
 * IncidentSink, Logger). Each records what it was asked and can be told to fail.
 */

import type { LogFields, Logger } from '../../lib/common/logger';
import type { RelayMetrics } from '../../lib/common/metrics';
import { Secret } from '../../lib/common/secret';
import type { CircuitBreaker } from '../../lib/delivery/circuit-breaker';
import type { SendRateLimiter } from '../../lib/delivery/rate-limit';
import type { DeliverDeps } from '../../lib/delivery/record-outcome';
import type { RecoveryWatch } from '../../lib/delivery/recovery-watch';
import type { SendOutcome } from '../../lib/delivery/send-outcome';
import type { IncidentSink } from '../../lib/delivery/squadcast-sink';
import { DEFAULT_PRIORITIES, highestPriority } from '../../lib/incident/priorities';
import type { SquadcastIncident } from '../../lib/incident/to-incident';
import type { IngestDeps } from '../../lib/ingest/ingest-webhook';
import type {
  AlertRecord,
  AlertVersion,
  ClaimResult,
  DeliveryLedger,
  DeliverySummary,
  FailedSend,
  Lease,
  LedgerReader,
} from '../../lib/ledger/ledger';
import type {
  MessageQueue,
  OutboundMessage,
  QueueDepthReader,
  QueueDepths,
  RetryScheduler,
  SendReport,
} from '../../lib/queue/message-queue';
import { anAllowlist, TEST_WEBHOOK_TOKEN } from './factories';

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export const deferred = <T>(): Deferred<T> => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** Lets every pending promise callback and one macrotask run. */
export const flushPromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A queue that keeps every `sendAll` call. Messages for which `fails` is true are reported in `failedKeys`. */
export class FakeMessageQueue implements MessageQueue {
  readonly calls: OutboundMessage[][] = [];
  fails: (message: OutboundMessage) => boolean = () => false;
  /** When set, `sendAll` rejects with it (an adapter bug; the real adapter reports instead). */
  error: Error | undefined;

  /** @param maxMessageBytes like SQS, a body over this many UTF-8 bytes is refused (reported failed). */
  constructor(readonly maxMessageBytes = Number.POSITIVE_INFINITY) {}

  async sendAll(messages: readonly OutboundMessage[]): Promise<SendReport> {
    this.calls.push([...messages]);
    if (this.error !== undefined) throw this.error;
    return { failedKeys: messages.filter((message) => this.refuses(message)).map((message) => message.key) };
  }

  refuses(message: OutboundMessage): boolean {
    return this.fails(message) || Buffer.byteLength(message.body, 'utf8') > this.maxMessageBytes;
  }

  failAll(): this {
    this.fails = () => true;
    return this;
  }

  /** Every message offered, accepted or not. */
  get attempted(): OutboundMessage[] {
    return this.calls.flat();
  }

  /** The messages that are now on the queue. */
  get accepted(): OutboundMessage[] {
    return this.attempted.filter((message) => !this.refuses(message));
  }

  /** The accepted bodies, parsed. */
  bodies<T = Record<string, unknown>>(): T[] {
    return this.accepted.map((message) => JSON.parse(message.body) as T);
  }
}

export class FakeRetryScheduler implements RetryScheduler {
  readonly calls: Array<{ readonly receiptHandle: string; readonly seconds: number }> = [];
  error: Error | undefined;

  async retryAfter(receiptHandle: string, seconds: number): Promise<void> {
    this.calls.push({ receiptHandle, seconds });
    if (this.error !== undefined) throw this.error;
  }

  secondsFor(receiptHandle: string): number | undefined {
    return this.calls.find((call) => call.receiptHandle === receiptHandle)?.seconds;
  }
}

interface LedgerEntry {
  state: 'in-flight' | 'delivered' | 'failed';
  token?: string;
  deliveredAt?: Date;
  fingerprints?: ReadonlySet<string>;
  fields?: Readonly<Record<string, string>>;
  /** The first failed send since the last delivery, and the latest reason. */
  failingSince?: Date;
  lastFailure?: string;
}

/**
 * An in-memory ledger with the DynamoDB ledger's rules (no lease expiry: a held lease stays held).
 * A delivered entry holds the fingerprints delivered under its id; one seeded without a fingerprint
 * holds every version, as a record written before fingerprints existed does.
 */
export class FakeLedger implements DeliveryLedger {
  readonly entries = new Map<string, LedgerEntry>();
  /** The alert id of every claim, in order. */
  readonly claims: string[] = [];
  readonly versions: AlertVersion[] = [];
  readonly completed: Array<{ readonly lease: Lease; readonly deliveredAt: Date }> = [];
  readonly released: Lease[] = [];
  /** The failure each release carried (undefined for a release without a failed send). */
  readonly releasedFailures: Array<FailedSend | undefined> = [];
  claimError: Error | undefined;
  completeError: Error | undefined;
  releaseError: Error | undefined;
  /** How long a lease is said to last (Lease.until); it never runs out here. Infinite unless a test sets it. */
  leaseMs = Number.POSITIVE_INFINITY;
  #tokens = 0;

  private leaseUntil(now: Date): number {
    return now.getTime() + this.leaseMs;
  }

  /** Records an alert as already delivered (this version only, when `delivered` is given), or as held by another delivery. */
  seed(alertId: string, state: 'delivered' | 'in-flight', delivered?: { version: AlertVersion; at: Date }): this {
    this.entries.set(alertId, {
      state,
      token: 'someone-else',
      ...(delivered === undefined
        ? {}
        : { fingerprints: new Set([delivered.version.fingerprint]), fields: delivered.version.fields, deliveredAt: delivered.at }),
    });
    return this;
  }

  async claim(version: AlertVersion, now: Date): Promise<ClaimResult> {
    const { alertId } = version;
    this.claims.push(alertId);
    this.versions.push(version);
    if (this.claimError !== undefined) throw this.claimError;
    const entry = this.entries.get(alertId);
    if (entry?.state === 'in-flight') return { kind: 'in-flight' };
    if (entry?.state === 'delivered' && (entry.fingerprints === undefined || entry.fingerprints.has(version.fingerprint)))
      return { kind: 'already-delivered' };
    const token = `lease-${++this.#tokens}`;
    this.entries.set(alertId, { ...entry, state: 'in-flight', token });
    const earlier = entry?.deliveredAt === undefined ? {} : { earlier: { deliveredAt: entry.deliveredAt, fields: entry.fields ?? {} } };
    const failing = entry?.failingSince === undefined ? {} : { failingSince: entry.failingSince };
    return { kind: 'claimed', lease: { version, token, until: this.leaseUntil(now) }, ...earlier, ...failing };
  }

  async complete(lease: Lease, deliveredAt: Date): Promise<void> {
    this.completed.push({ lease, deliveredAt });
    if (this.completeError !== undefined) throw this.completeError;
    const { alertId, fingerprint, fields } = lease.version;
    const fingerprints = new Set([...(this.entries.get(alertId)?.fingerprints ?? []), fingerprint]);
    this.entries.set(alertId, { state: 'delivered', deliveredAt, fingerprints, fields });
  }

  async release(lease: Lease, failure?: FailedSend): Promise<void> {
    this.released.push(lease);
    this.releasedFailures.push(failure);
    if (this.releaseError !== undefined) throw this.releaseError;
    const entry = this.entries.get(lease.version.alertId);
    if (entry?.token !== lease.token) return;
    const { failingSince: _ended, ...rest } = entry;
    this.entries.set(lease.version.alertId, {
      ...(failure?.deadLettered === true ? rest : entry),
      state: entry.deliveredAt ? 'delivered' : 'failed',
      ...(failure === undefined ? {} : { lastFailure: failure.reason }),
      ...(failure === undefined || failure.deadLettered === true ? {} : { failingSince: entry.failingSince ?? failure.at }),
    });
  }

  /** Records that sends of an alert have failed since `at` (as a release after a failed send would have). */
  failingSince(alertId: string, at: Date): this {
    this.entries.set(alertId, { ...(this.entries.get(alertId) ?? { state: 'failed' }), failingSince: at });
    return this;
  }

  stateOf(alertId: string): LedgerEntry['state'] | undefined {
    return this.entries.get(alertId)?.state;
  }
}

/**
 * An incident sink that answers with `respond` (default: delivered 202). In `hold()` mode every
 * send waits until the test settles it, so that concurrency can be observed.
 */
export class FakeIncidentSink implements IncidentSink {
  readonly sent: SquadcastIncident[] = [];
  respond: (incident: SquadcastIncident) => SendOutcome | Promise<SendOutcome> = () => ({ kind: 'delivered', status: 202 });
  inFlight = 0;
  maxInFlight = 0;
  readonly held: Array<Deferred<SendOutcome>> = [];
  #holding = false;

  answer(outcome: SendOutcome): this {
    this.respond = () => outcome;
    return this;
  }

  hold(): this {
    this.#holding = true;
    return this;
  }

  async send(incident: SquadcastIncident): Promise<SendOutcome> {
    this.sent.push(incident);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.#holding) {
        const pending = deferred<SendOutcome>();
        this.held.push(pending);
        return await pending.promise;
      }
      return await this.respond(incident);
    } finally {
      this.inFlight--;
    }
  }
}

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

/** Keeps every log call. `text()` is everything logged, for "never logged" assertions. */
export class CapturingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  info(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'info', message, fields });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'warn', message, fields });
  }

  error(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'error', message, fields });
  }

  find(message: string): LogEntry | undefined {
    return this.entries.find((entry) => entry.message === message);
  }

  at(level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level);
  }

  text(): string {
    return JSON.stringify(this.entries);
  }
}

/** Answers the status' ledger questions with fixed values; records the `since` and the ids it was asked about. */
export class FakeLedgerReader implements LedgerReader {
  summary: DeliverySummary = { lastDeliveredAt: null, deliveredSince: 0, perDay: {} };
  readonly summarizedSince: Date[] = [];
  readonly records = new Map<string, AlertRecord>();
  readonly lookedUp: string[] = [];
  error: Error | undefined;

  async lookup(alertId: string): Promise<AlertRecord | undefined> {
    this.lookedUp.push(alertId);
    if (this.error !== undefined) throw this.error;
    return this.records.get(alertId);
  }

  async summarize(since: Date): Promise<DeliverySummary> {
    this.summarizedSince.push(since);
    if (this.error !== undefined) throw this.error;
    return this.summary;
  }
}

export class FakeQueueDepthReader implements QueueDepthReader {
  constructor(public value: QueueDepths = { pending: 0, deadLetter: 0 }) {}

  async depths(): Promise<QueueDepths> {
    return this.value;
  }
}

export interface IngestHarnessOptions extends Partial<IngestDeps> {
  /** Like SQS, the queues refuse a message body over this many bytes (reported failed). */
  readonly maxMessageBytes?: number;
}

/**
 * Ingest's dependencies on in-memory ports: Threat Stack's addresses, TEST_WEBHOOK_TOKEN, queues
 * and a logger that record what they get. Options replace any of them.
 */
export const ingestHarness = ({ maxMessageBytes, ...overrides }: IngestHarnessOptions = {}) => {
  const alerts = new FakeMessageQueue(maxMessageBytes);
  const deadLetters = new FakeMessageQueue(maxMessageBytes);
  const log = new CapturingLogger();
  const deps: IngestDeps = {
    allowlist: anAllowlist(),
    token: new Secret(TEST_WEBHOOK_TOKEN),
    alerts,
    deadLetters,
    log,
    metrics: noMetrics,
    now: () => new Date('2023-11-14T22:13:21.000Z'),
    ...overrides,
  };
  return { deps, alerts, deadLetters, log };
};

/** Metrics that record nothing: a test overrides the method it looks at. */
/** Metrics that keep every gauge value given (`largest`), in order, and drop the rest. */
export const gaugeRecorder = (): { readonly gauges: Array<[string, number]>; readonly metrics: RelayMetrics } => {
  const gauges: Array<[string, number]> = [];
  return {
    gauges,
    metrics: {
      count: () => undefined,
      squadcastLatency: () => undefined,
      largest: (metric, seconds) => void gauges.push([metric, seconds]),
      flush: () => undefined,
    },
  };
};

export const noMetrics: RelayMetrics = {
  count: () => undefined,
  squadcastLatency: () => undefined,
  largest: () => undefined,
  flush: () => undefined,
};

/** A rate limiter that always admits: no ceiling. */
export const sendAtOnce: SendRateLimiter = { admit: async () => ({ kind: 'send' }), pauseFor: () => undefined };

/** A recovery watch that never wakes anything. */
export const noRecoveryWatch: RecoveryWatch = { answered: () => undefined, parked: () => undefined, wake: () => [] };

/** A circuit breaker that never opens: every send goes. */
export const noBreaker: CircuitBreaker = { holding: () => undefined, admit: () => 'send', answered: () => undefined };

/**
 * The collaborators of a delivery a test does not look at, inert: no ceiling, no recovery watch, no
 * circuit breaker, no metrics, no post window, the default priorities, the jitter at its middle.
 */
export const inertDeliverDeps = (): Pick<
  DeliverDeps,
  'metrics' | 'random' | 'rateLimit' | 'recovery' | 'breaker' | 'priorities' | 'unknownSeverityPriority' | 'postWindowMs'
> => ({
  metrics: noMetrics,
  random: () => 0.5,
  rateLimit: sendAtOnce,
  recovery: noRecoveryWatch,
  breaker: noBreaker,
  priorities: DEFAULT_PRIORITIES,
  unknownSeverityPriority: highestPriority(DEFAULT_PRIORITIES),
  postWindowMs: 0,
});
