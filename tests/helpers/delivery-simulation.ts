/**
 * A virtual-time model of the deliver side: an SQS queue with visibility timeouts, receive counts
 * and a redrive policy; a ledger with the DynamoDB ledger's rules (leases expire); Lambda
 * "containers" that poll the queue like the event source mapping and call the real `deliverBatch`.
 * Time is simulated, so minutes of rate limiting run in milliseconds and nothing depends on the
 * machine's speed.
 */

import type { Logger } from '../../lib/common/logger';
import type { DeliverDeps, QueueRecord } from '../../lib/delivery/deliver-batch';
import { deliverBatch } from '../../lib/delivery/deliver-batch';
import type { ClaimResult, DeliveryLedger, Lease } from '../../lib/ledger/ledger';
import type { MessageQueue, OutboundMessage, RetryScheduler } from '../../lib/queue/message-queue';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/** Timers that fire only when `run` advances the clock, earliest first. */
export class VirtualClock {
  now = 0;
  #timers: Timer[] = [];
  #seq = 0;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.#timers.push({ at: this.now + Math.max(0, ms), seq: this.#seq++, resolve });
    });

  /** Advances time timer by timer until `done()` holds; throws if everything waits on nothing. */
  async run(done: () => boolean, maxVirtualMs: number): Promise<void> {
    for (;;) {
      // Let every promise chain that can move without time move first.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      if (done()) return;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers.shift();
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
  visibleAt: number;
  receiveCount: number;
  receipt: string;
}

/** SQS semantics that matter here: visibility, ChangeMessageVisibility, receive counts, redrive. */
export class SimulatedQueue {
  readonly messages = new Map<string, SimMessage>();
  readonly redriven: string[] = [];
  #ids = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly visibilityTimeoutMs: number,
    private readonly maxReceiveCount: number,
  ) {}

  send(body: string): void {
    const id = `m-${++this.#ids}`;
    this.messages.set(id, { id, body, visibleAt: this.clock.now, receiveCount: 0, receipt: '' });
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
      message.visibleAt = this.clock.now + this.visibilityTimeoutMs;
      message.receipt = `${message.id}#${message.receiveCount}`;
      records.push({ messageId: message.id, body: message.body, receiptHandle: message.receipt, receiveCount: message.receiveCount });
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

/** The DynamoDB ledger's conditions, on virtual time. */
export class SimulatedLedger implements DeliveryLedger {
  readonly items = new Map<string, { state: 'in-flight' | 'delivered' | 'failed'; token: string; leaseUntil: number }>();
  #tokens = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly leaseMs: number,
  ) {}

  async claim(alertId: string): Promise<ClaimResult> {
    const item = this.items.get(alertId);
    if (item?.state === 'delivered') return { kind: 'already-delivered' };
    if (item !== undefined && item.leaseUntil >= this.clock.now) return { kind: 'in-flight' };
    const token = `t${++this.#tokens}`;
    this.items.set(alertId, { state: 'in-flight', token, leaseUntil: this.clock.now + this.leaseMs });
    return { kind: 'claimed', lease: { alertId, token } };
  }

  async complete(lease: Lease): Promise<void> {
    this.items.set(lease.alertId, { state: 'delivered', token: '', leaseUntil: 0 });
  }

  async release(lease: Lease): Promise<void> {
    const item = this.items.get(lease.alertId);
    if (item?.token === lease.token) this.items.set(lease.alertId, { state: 'failed', token: '', leaseUntil: 0 });
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

/**
 * One Lambda container: receive up to `batchSize`, invoke `deliverBatch`, delete what did not fail.
 * Like the event source mapping, an empty receive waits (here: until the next message is due).
 */
export const runContainer = async (
  queue: SimulatedQueue,
  clock: VirtualClock,
  deps: DeliverDeps,
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
    const result = await deliverBatch(records, deps);
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
