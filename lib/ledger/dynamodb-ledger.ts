import { randomUUID } from 'node:crypto';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { ClaimResult, DailyCounts, DeliveryLedger, Lease, LedgerReader } from './ledger';

/**
 * The delivery ledger in DynamoDB. Table layout (serverless.yml `ActivityTable`, a logical id kept
 * from before the name "ledger", like the `activity` attribute, so that no deploy replaces the table):
 * - `pk` = `alert#<id>`: one item per alert, `state` in-flight | delivered | failed, a lease
 *   (`leaseToken`, `leaseUntil` epoch ms) and `expiresAt` (epoch seconds, the TTL attribute).
 * - Delivered items also carry `activity` = "delivered" and `deliveredAt` (ISO-8601): the keys of
 *   the sparse GSI `delivered-at`, which the status reads. One partition suffices: Squadcast
 *   accepts at most 1000 incidents a minute, far below a partition's write limit.
 * TTL deletes lazily (days late, and emulators never do), so reads filter on `deliveredAt`.
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

const keyOf = (alertId: string): Record<string, AttributeValue> => ({ pk: { S: `alert#${alertId}` } });
const expiresAt = (from: Date): AttributeValue => ({ N: String(Math.floor((from.getTime() + RETENTION_DAYS * DAY_MS) / 1000)) });

const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException => error instanceof ConditionalCheckFailedException;

export const createDynamoDbLedger = (client: DynamoDBClient, tableName: string, options: DynamoDbLedgerOptions): DeliveryLedger => {
  /** After a refused claim: delivered already, or someone else holds a live lease. */
  const readState = async (alertId: string, item: Record<string, AttributeValue> | undefined): Promise<ClaimResult> => {
    const current =
      item ?? (await client.send(new GetItemCommand({ TableName: tableName, Key: keyOf(alertId), ConsistentRead: true }))).Item;
    return current?.state?.S === 'delivered' ? { kind: 'already-delivered' } : { kind: 'in-flight' };
  };

  return {
    claim: async (alertId, now) => {
      const token = randomUUID();
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...keyOf(alertId),
              state: { S: 'in-flight' },
              leaseToken: { S: token },
              leaseUntil: { N: String(now.getTime() + options.leaseMs) },
              expiresAt: expiresAt(now),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR (#state <> :delivered AND leaseUntil < :now)',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':delivered': { S: 'delivered' }, ':now': { N: String(now.getTime()) } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { kind: 'claimed', lease: { alertId, token } };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return readState(alertId, (error as { Item?: Record<string, AttributeValue> }).Item);
      }
    },

    complete: async (lease: Lease, deliveredAt: Date) => {
      // Unconditional on purpose: the incident exists, so the record must say so even if the lease ran out.
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: keyOf(lease.alertId),
          UpdateExpression:
            'SET #state = :delivered, activity = :activity, deliveredAt = :at, expiresAt = :expires REMOVE leaseUntil, leaseToken',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':delivered': { S: 'delivered' },
            ':activity': { S: ACTIVITY_KEY },
            ':at': { S: deliveredAt.toISOString() },
            ':expires': expiresAt(deliveredAt),
          },
        }),
      );
    },

    release: async (lease: Lease) => {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: keyOf(lease.alertId),
            UpdateExpression: 'SET #state = :failed, leaseUntil = :zero',
            ConditionExpression: 'leaseToken = :token',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':failed': { S: 'failed' }, ':zero': { N: '0' }, ':token': { S: lease.token } },
          }),
        );
      } catch (error) {
        // Someone else took the lease over: it is theirs now.
        if (!isConditionFailure(error)) throw error;
      }
    },
  };
};

export const createDynamoDbLedgerReader = (client: DynamoDBClient, tableName: string): LedgerReader => ({
  summarize: async (since) => {
    const latest = async (): Promise<string | undefined> => {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: DELIVERED_AT_INDEX,
          KeyConditionExpression: 'activity = :activity',
          ExpressionAttributeValues: { ':activity': { S: ACTIVITY_KEY } },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      return page.Items?.[0]?.deliveredAt?.S;
    };
    // One pass over the window gives both the total and the per-day chart. It reads only the
    // index keys: about 60 bytes an incident, so 30 days at Squadcast's highest plan limit would
    // still be a few hundred pages; real relays read one or two.
    const countSince = async (): Promise<DailyCounts> => {
      const counts: Record<string, number> = {};
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: DELIVERED_AT_INDEX,
            KeyConditionExpression: 'activity = :activity AND deliveredAt >= :since',
            ExpressionAttributeValues: { ':activity': { S: ACTIVITY_KEY }, ':since': { S: since.toISOString() } },
            ProjectionExpression: 'deliveredAt',
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const day = item.deliveredAt?.S?.slice(0, 10);
          if (day !== undefined) counts[day] = (counts[day] ?? 0) + 1;
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
