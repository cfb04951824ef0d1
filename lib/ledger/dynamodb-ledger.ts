import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AlertVersion, ClaimResult, DeliveryLedger, EarlierVersion, FailedSend, Lease } from './ledger';
import type { LedgerItem } from './ledger-table';
import { ACTIVITY_KEY, DAY_MS, keyOf, RETENTION_DAYS } from './ledger-table';

/** The delivery ledger's writes (claim, complete, release), on the table lib/ledger/ledger-table.ts lays out. */
export interface DynamoDbLedgerOptions {
  /** How long a claim holds before another delivery may take it over: longer than one attempt can last. */
  readonly leaseMs: number;
}

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

/** Whether another delivery's lease on `item` is still live at `now`. */
const leased = (item: LedgerItem | undefined, now: Date): boolean =>
  typeof item?.leaseUntil === 'number' && item.leaseUntil >= now.getTime();

/** The claim's answer, from the item that was there before it (none for an id seen for the first time). */
const claimedOver = (lease: Lease, old: LedgerItem | undefined): ClaimResult => {
  const earlier = earlierVersion(old);
  return {
    kind: 'claimed',
    lease,
    ...(earlier === undefined ? {} : { earlier }),
    // The condition let an in-flight item through only with its lease run out.
    ...(old?.state === 'in-flight' ? { tookOver: true } : {}),
    ...(typeof old?.failingSince === 'number' ? { failingSince: new Date(old.failingSince) } : {}),
  };
};

/** The old item a refused write carries (DynamoDB's ReturnValuesOnConditionCheckFailure), as attribute values. */
const itemOf = (error: ConditionalCheckFailedException): LedgerItem | undefined =>
  error.Item === undefined ? undefined : (unmarshall(error.Item) as LedgerItem);

export const createDynamoDbLedger = (client: DynamoDBDocumentClient, tableName: string, options: DynamoDbLedgerOptions): DeliveryLedger => {
  /** After a refused claim: this version delivered already, or someone else holds a live lease. */
  const refused = async (version: AlertVersion, now: Date, item: LedgerItem | undefined): Promise<ClaimResult> => {
    const current =
      item ??
      ((await client.send(new GetCommand({ TableName: tableName, Key: keyOf(version.alertId), ConsistentRead: true }))).Item as LedgerItem);
    return holds(current, version, now) ? { kind: 'already-delivered' } : { kind: 'in-flight' };
  };

  /**
   * An id seen for the first time, nearly every alert: the item created with the lease, on the one
   * condition that there is none yet. What was there, if the id was seen before, comes back with
   * the refusal (from DynamoDB; an emulator may leave it out).
   */
  const firstSight = async (lease: Lease, now: Date): Promise<{ claimed: true } | { claimed: false; old: LedgerItem | undefined }> => {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keyOf(lease.version.alertId),
            state: 'in-flight',
            leaseToken: lease.token,
            leaseUntil: lease.until,
            expiresAt: expiresAt(now),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { claimed: false, old: itemOf(error) };
    }
  };

  /**
   * An id seen before: take the lease unless this version is held or another lease is live, and
   * read what was there (the earlier version, if any), in one conditional request.
   */
  const takeOver = async (lease: Lease, now: Date): Promise<ClaimResult> => {
    const { version } = lease;
    try {
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
            ':token': lease.token,
            ':leaseUntil': lease.until,
            ':expires': expiresAt(now),
            ':fingerprint': version.fingerprint,
            ':now': now.getTime(),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return claimedOver(lease, Attributes as LedgerItem | undefined);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The DocumentClient unmarshalls answers, not errors: the old item comes as attribute values.
      return refused(version, now, itemOf(error));
    }
  };

  return {
    // Two steps, so that the common case costs the simplest write: a first sight of the id, then
    // (only for an id seen before) the conditional take-over. What the first step's refusal shows
    // settles a duplicate or a live lease at once; anything else is decided by the second step's
    // condition, atomically, whatever happened in between. A refused write still costs a write unit,
    // so an id seen before costs two where the single conditional update cost one; a new id, nearly
    // every alert, costs one either way, and the simpler condition is cheaper to evaluate.
    // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html (ReturnValuesOnConditionCheckFailure)
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html (conditional writes consume write units when they fail)
    claim: async (version, now) => {
      const lease: Lease = { version, token: randomUUID(), until: now.getTime() + options.leaseMs };
      const first = await firstSight(lease, now);
      if (first.claimed) return claimedOver(lease, undefined);
      if (first.old !== undefined && (holds(first.old, version, now) || leased(first.old, now))) return refused(version, now, first.old);
      return takeOver(lease, now);
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
