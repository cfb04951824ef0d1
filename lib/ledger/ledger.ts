/** A claim on an alert: only its holder may send the incident. */
export interface Lease {
  readonly alertId: string;
  readonly token: string;
}

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly lease: Lease }
  | { readonly kind: 'already-delivered' }
  /** Another delivery of the same alert holds the lease right now. */
  | { readonly kind: 'in-flight' };

/**
 * The delivery ledger, keyed on the Threat Stack alert id. It makes delivery idempotent
 * (claim before sending, complete after Squadcast's 2xx) and it is the record of incidents
 * that the 30-day status is computed from.
 */
export interface DeliveryLedger {
  claim(alertId: string, now: Date): Promise<ClaimResult>;
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
