import { escapedId, hasLoneSurrogate } from '../common/text';

/**
 * The delivery ledger in DynamoDB, through the SDK's DocumentClient (plain values in, plain values
 * out). Table layout (serverless.yml `ActivityTable`, a logical id kept from before the name
 * "ledger", like the `activity` attribute, so that no deploy replaces the table):
 * - `pk` = `alert#<id>` (`ledgerKeyOf`): one item per alert id, `state` in-flight | delivered | failed |
 *   dead-lettered, a lease (`leaseToken`, `leaseUntil` epoch ms) and `expiresAt` (epoch seconds, the
 *   TTL attribute); after failed sends, `failingSince` (epoch ms of the first) and `lastFailure`.
 * - What was delivered under the id: `fingerprints` (a string set of every version delivered),
 *   `heldUntil` (epoch ms: until then a delivered version is not sent again), and `lastFields`, the
 *   per-field digests of the latest version, from which a later version's changes are named.
 *   An item written before fingerprints existed holds its id whatever the content, as it did.
 * - Delivered items also carry `activity` = "delivered" and `deliveredAt` (ISO-8601): the keys of
 *   the sparse GSI `delivered-at`, which the status reads. One partition suffices: Squadcast
 *   accepts at most 1000 incidents a minute, far below a partition's write limit.
 * TTL deletes lazily (days late, and emulators never do), so reads filter on `deliveredAt`, and
 * the hold is `heldUntil`, never the TTL.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
 */
export const DELIVERED_AT_INDEX = 'delivered-at';
/** The one value of the index's partition key `activity`: every delivery shares one partition. */
export const ACTIVITY_KEY = 'delivered';
export const RETENTION_DAYS = 30;
export const DAY_MS = 86_400_000;

/** The attributes the ledger reads back from an item. */
export interface LedgerItem {
  readonly state?: string;
  /** Until when (epoch ms) a delivery's lease holds the alert; 0 or absent when none does. */
  readonly leaseUntil?: number;
  /** Epoch ms of the first failed send since the last delivery (`failingSince`), and the latest reason (`lastFailure`). */
  readonly failingSince?: number;
  readonly lastFailure?: string;
  readonly fingerprints?: ReadonlySet<string>;
  readonly heldUntil?: number;
  readonly lastFields?: Readonly<Record<string, string>>;
  readonly deliveredAt?: string;
}

/**
 * The item key of an alert id: `alert#<id>` as sent. An id that is not well-formed UTF-16 (a lone
 * surrogate, which JSON carries as `\ud801`) would reach DynamoDB as U+FFFD, and two distinct ids
 * would share one item: such an id is keyed on its escaped form instead, under a prefix no
 * well-formed key can start with.
 */
export const ledgerKeyOf = (alertId: string): string =>
  hasLoneSurrogate(alertId) ? `alert-escaped#${escapedId(alertId)}` : `alert#${alertId}`;
export const keyOf = (alertId: string) => ({ pk: ledgerKeyOf(alertId) });
