/** One version of an alert: its id, and the fingerprint of what its incident shows (lib/alert/fingerprint.ts). */
export interface AlertVersion {
  readonly alertId: string;
  readonly fingerprint: string;
  /** Per shown field, a digest of its value: kept with a delivery, to name what a later version changed. */
  readonly fields: Readonly<Record<string, string>>;
  /** How long, once delivered, this version holds a resend of itself back (`holdMsFor`). */
  readonly holdMs: number;
}

/** A claim on an alert: only its holder may send the incident. */
export interface Lease {
  readonly version: AlertVersion;
  readonly token: string;
  /** When the lease runs out (epoch ms): after it, another delivery may claim the alert and send it. */
  readonly until: number;
}

/** A send that failed, as the ledger keeps it until the alert is delivered. */
export interface FailedSend {
  readonly at: Date;
  /** Why, as deliver says it (`Squadcast answered 503`): never alert content. */
  readonly reason: string;
  /**
   * True when deliver moved the alert to the dead-letter queue: its failing time ends there (a
   * redrive starts afresh, and its next failure is no outage of hours), its reason stays.
   */
  readonly deadLettered?: boolean;
}

/** The latest delivery recorded under the same id, found when a claim for another version (or a held-out one) succeeds. */
export interface EarlierVersion {
  readonly deliveredAt: Date;
  /** Its per-field digests (empty when the record predates fingerprints). */
  readonly fields: Readonly<Record<string, string>>;
}

export type ClaimResult =
  | {
      readonly kind: 'claimed';
      readonly lease: Lease;
      readonly earlier?: EarlierVersion;
      /**
       * True when this claim took over one that ran out without being completed or released: that
       * delivery crashed or stalled, and may have reached Squadcast (then this one pages again).
       */
      readonly tookOver?: boolean;
      /** When a send of this alert first failed, if its sends have failed since it was last delivered. */
      readonly failingSince?: Date;
    }
  /** This version was delivered, and is still held. */
  | { readonly kind: 'already-delivered' }
  /** Another delivery of the same alert id holds the lease right now. */
  | { readonly kind: 'in-flight' };

/**
 * The delivery ledger, keyed on the alert id, and holding the fingerprints delivered under it. It
 * makes delivery idempotent on "the same alert sent again" (claim before sending, complete after
 * Squadcast's 2xx) and it is the record of incidents that the 30-day status is computed from.
 */
export interface DeliveryLedger {
  claim(version: AlertVersion, now: Date): Promise<ClaimResult>;
  complete(lease: Lease, deliveredAt: Date): Promise<void>;
  /**
   * Gives the claim up so that the next attempt may take it at once. After a failed send, `failure`
   * is remembered: the first failure's time (the next claim returns it) and the latest reason.
   */
  release(lease: Lease, failure?: FailedSend): Promise<void>;
}

/** Incidents recorded per UTC day (`YYYY-MM-DD`); days without any are left out. */
export type DailyCounts = Readonly<Record<string, number>>;

export interface DeliverySummary {
  /** The latest recorded delivery, even one older than `since` that TTL has not deleted yet. */
  readonly lastDeliveredAt: Date | null;
  /** Deliveries recorded at or after `since`. */
  readonly deliveredSince: number;
  /** The same deliveries, per UTC day of their delivery. */
  readonly perDay: DailyCounts;
}

/** What the ledger knows of one alert id (for `npm run test-alert`, `smoke` and `dead-letters`). */
export interface AlertRecord {
  readonly state: 'delivered' | 'in-flight' | 'failed' | 'dead-lettered';
  /** The latest delivery. */
  readonly deliveredAt?: Date;
  /** The first failed send since the last delivery, while its sends keep failing. */
  readonly failingSince?: Date;
  /** The latest failure's reason (never alert content). */
  readonly lastFailure?: string;
}

export interface LedgerReader {
  summarize(since: Date): Promise<DeliverySummary>;
  /** The record of one alert id; undefined when the ledger has none (not tried yet, or expired). */
  lookup(alertId: string): Promise<AlertRecord | undefined>;
}
