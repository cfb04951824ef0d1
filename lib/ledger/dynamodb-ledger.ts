import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { escapedId, hasLoneSurrogate } from '../common/text';
import type {
  AlertRecord,
  AlertVersion,
  ClaimResult,
  DailyCounts,
  DeliveryLedger,
  EarlierVersion,
  FailedSend,
  Lease,
  LedgerReader,
} from './ledger';

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
const ACTIVITY_KEY = 'delivered';
export const RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

export interface DynamoDbLedgerOptions {
  /** How long a claim holds before another delivery may take it over: longer than one attempt can last. */
  readonly leaseMs: number;
}

/** The attributes this module reads back from an item. */
interface LedgerItem {
  readonly state?: string;
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
const keyOf = (alertId: string) => ({ pk: ledgerKeyOf(alertId) });
/** A failure's reason is kept this long at most (deliver's reasons are short; a body quoted in one is cut). */
const MAX_REASON_LENGTH = 200;
const expiresAt = (from: Date): number => Math.floor((from.getTime() + RETENTION_DAYS * DAY_MS) / 1000);

const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException => error instanceof ConditionalCheckFailedException;

/** Whether `item` holds this version back: delivered and still held, or (an item from before fingerprints) delivered at all. */
const holds = (item: LedgerItem | undefined, version: AlertVersion, now: Date): boolean => {
  if (item?.fingerprints === undefined) return item?.state === 'delivered';
  return item.fingerprints.has(version.fingerprint) && (item.heldUntil ?? 0) > now.getTime();
};

/** The latest delivery recorded under the id, if there was one. */
const earlierVersion = (item: LedgerItem | undefined): EarlierVersion | undefined =>
  item?.deliveredAt === undefined ? undefined : { deliveredAt: new Date(item.deliveredAt), fields: item.lastFields ?? {} };

export const createDynamoDbLedger = (client: DynamoDBDocumentClient, tableName: string, options: DynamoDbLedgerOptions): DeliveryLedger => {
  /** After a refused claim: this version delivered already, or someone else holds a live lease. */
  const refused = async (version: AlertVersion, now: Date, item: LedgerItem | undefined): Promise<ClaimResult> => {
    const current =
      item ??
      ((await client.send(new GetCommand({ TableName: tableName, Key: keyOf(version.alertId), ConsistentRead: true }))).Item as LedgerItem);
    return holds(current, version, now) ? { kind: 'already-delivered' } : { kind: 'in-flight' };
  };

  return {
    claim: async (version, now) => {
      const token = randomUUID();
      const until = now.getTime() + options.leaseMs;
      try {
        // One request: take the lease unless this version is held or another lease is live, and
        // read what was there (the earlier version, if any) in the same call.
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(version.alertId),
            UpdateExpression:
              'SET #state = :inFlight, leaseToken = :token, leaseUntil = :leaseUntil, expiresAt = if_not_exists(expiresAt, :expires)',
            ConditionExpression:
              'attribute_not_exists(pk) OR ((attribute_exists(fingerprints) OR #state <> :delivered) ' +
              'AND NOT (contains(fingerprints, :fingerprint) AND heldUntil > :now) ' +
              'AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now))',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':inFlight': 'in-flight',
              ':delivered': 'delivered',
              ':token': token,
              ':leaseUntil': until,
              ':expires': expiresAt(now),
              ':fingerprint': version.fingerprint,
              ':now': now.getTime(),
            },
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const old = Attributes as LedgerItem | undefined;
        const earlier = earlierVersion(old);
        return {
          kind: 'claimed',
          lease: { version, token, until },
          ...(earlier === undefined ? {} : { earlier }),
          // The condition let an in-flight item through only with its lease run out.
          ...(old?.state === 'in-flight' ? { tookOver: true } : {}),
          ...(typeof old?.failingSince === 'number' ? { failingSince: new Date(old.failingSince) } : {}),
        };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // The DocumentClient unmarshalls answers, not errors: the old item comes as attribute values.
        return refused(version, now, error.Item === undefined ? undefined : (unmarshall(error.Item) as LedgerItem));
      }
    },

    complete: async (lease: Lease, deliveredAt: Date) => {
      const { version } = lease;
      // Unconditional on purpose: the incident exists, so the record must say so even if the lease ran out.
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keyOf(version.alertId),
          UpdateExpression:
            'SET #state = :delivered, activity = :activity, deliveredAt = :at, expiresAt = :expires, heldUntil = :heldUntil, lastFields = :fields ' +
            'ADD fingerprints :fingerprint REMOVE leaseUntil, leaseToken, failingSince, lastFailure',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':delivered': 'delivered',
            ':activity': ACTIVITY_KEY,
            ':at': deliveredAt.toISOString(),
            ':expires': expiresAt(deliveredAt),
            ':heldUntil': deliveredAt.getTime() + version.holdMs,
            ':fields': version.fields,
            ':fingerprint': new Set([version.fingerprint]),
          },
        }),
      );
    },

    release: async (lease: Lease, failure?: FailedSend) => {
      // The same write as ever: a failed send adds its time (kept from the first) and its reason; a
      // move to the dead-letter queue keeps the reason and ends the failing time.
      const failed =
        failure === undefined
          ? ''
          : failure.deadLettered === true
            ? ', lastFailure = :reason REMOVE failingSince'
            : ', failingSince = if_not_exists(failingSince, :failedAt), lastFailure = :reason';
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(lease.version.alertId),
            UpdateExpression: `SET #state = :failed, leaseUntil = :zero${failed}`,
            ConditionExpression: 'leaseToken = :token',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':failed': failure?.deadLettered === true ? 'dead-lettered' : 'failed',
              ':zero': 0,
              ':token': lease.token,
              ...(failure === undefined ? {} : { ':reason': failure.reason.slice(0, MAX_REASON_LENGTH) }),
              ...(failure === undefined || failure.deadLettered === true ? {} : { ':failedAt': failure.at.getTime() }),
            },
          }),
        );
      } catch (error) {
        // Someone else took the lease over: it is theirs now.
        if (!isConditionFailure(error)) throw error;
      }
    },
  };
};

/** The states an item can hold; anything else reads as failed. */
const STATES: ReadonlySet<string> = new Set(['delivered', 'in-flight', 'failed', 'dead-lettered']);

export const createDynamoDbLedgerReader = (client: DynamoDBDocumentClient, tableName: string): LedgerReader => ({
  lookup: async (alertId) => {
    // What the record says of delivery only: never the alert's digests.
    const { Item } = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: keyOf(alertId),
        ConsistentRead: true,
        ProjectionExpression: '#state, deliveredAt, failingSince, lastFailure',
        ExpressionAttributeNames: { '#state': 'state' },
      }),
    );
    const item = Item as LedgerItem | undefined;
    if (item === undefined) return undefined;
    return {
      state: STATES.has(item.state ?? '') ? (item.state as AlertRecord['state']) : 'failed',
      ...(item.deliveredAt === undefined ? {} : { deliveredAt: new Date(item.deliveredAt) }),
      ...(typeof item.failingSince === 'number' ? { failingSince: new Date(item.failingSince) } : {}),
      ...(typeof item.lastFailure === 'string' ? { lastFailure: item.lastFailure } : {}),
    };
  },

  summarize: async (since) => {
    const latest = async (): Promise<string | undefined> => {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: DELIVERED_AT_INDEX,
          KeyConditionExpression: 'activity = :activity',
          ExpressionAttributeValues: { ':activity': ACTIVITY_KEY },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      const deliveredAt: unknown = page.Items?.[0]?.deliveredAt;
      return typeof deliveredAt === 'string' ? deliveredAt : undefined;
    };
    // One pass over the window gives both the total and the per-day chart. It reads only the
    // index keys: about 60 bytes an incident, so 30 days at Squadcast's highest plan limit would
    // still be a few hundred pages; real relays read one or two.
    const countSince = async (): Promise<DailyCounts> => {
      const counts: Record<string, number> = {};
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: DELIVERED_AT_INDEX,
            KeyConditionExpression: 'activity = :activity AND deliveredAt >= :since',
            ExpressionAttributeValues: { ':activity': ACTIVITY_KEY, ':since': since.toISOString() },
            ProjectionExpression: 'deliveredAt',
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const deliveredAt: unknown = item.deliveredAt;
          if (typeof deliveredAt === 'string') counts[deliveredAt.slice(0, 10)] = (counts[deliveredAt.slice(0, 10)] ?? 0) + 1;
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      return counts;
    };
    const [last, perDay] = await Promise.all([latest(), countSince()]);
    return {
      lastDeliveredAt: last === undefined ? null : new Date(last),
      deliveredSince: Object.values(perDay).reduce((sum, n) => sum + n, 0),
      perDay,
    };
  },
});
