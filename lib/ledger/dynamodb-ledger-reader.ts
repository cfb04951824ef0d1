import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertRecord, DailyCounts, LedgerReader } from './ledger';
import type { LedgerItem } from './ledger-table';
import { ACTIVITY_KEY, DELIVERED_AT_INDEX, keyOf } from './ledger-table';

/** What the status reads of the ledger: the deliveries of a window (from the index), and one alert's record. */
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
