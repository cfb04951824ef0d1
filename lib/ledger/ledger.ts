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
  /** Gives the claim up after a failed attempt so that the next attempt may take it at once. */
  release(lease: Lease): Promise<void>;
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

export interface LedgerReader {
  summarize(since: Date): Promise<DeliverySummary>;
}
