import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeTableCommand, DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { itemSize, keysOnlyEntrySize } from '../devkit/dynamodb-item-size';
import { percentile } from './stats';

/** The ledger items a run left, sized as DynamoDB bills them (devkit/dynamodb-item-size.ts). */
export interface LedgerSizes {
  readonly items: number;
  readonly p50ItemBytes: number;
  readonly maxItemBytes: number;
  /** The largest entry an item puts in the table's index: the table's key and the index's key (KEYS_ONLY). */
  readonly maxIndexEntryBytes: number;
  /** Items that carry the index's key, per item: each was written to the index once. */
  readonly indexedShare: number;
}

/** The bare minimum of figure 3 writes to the same table under this prefix: not the relay's items. */
const MINIMUM_KEY_PREFIX = 'minimum#';

export const ledgerSizes = async (endpoint: string, tableName: string): Promise<LedgerSizes> => {
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const tableKeys = (Table?.KeySchema ?? []).map((key) => key.AttributeName ?? '');
    const index = Table?.GlobalSecondaryIndexes?.[0];
    const indexKeys = (index?.KeySchema ?? []).map((key) => key.AttributeName ?? '');
    const items: Record<string, AttributeValue>[] = [];
    for await (const page of paginateScan({ client }, { TableName: tableName }))
      for (const item of page.Items ?? []) if (!(item.pk?.S ?? '').startsWith(MINIMUM_KEY_PREFIX)) items.push(item);
    if (items.length === 0) throw new Error(`bench: the ledger table ${tableName} holds no item of the relay`);
    const sizes = items.map(itemSize);
    const indexed = items.filter((item) => indexKeys.length > 0 && indexKeys.every((key) => item[key] !== undefined));
    return {
      items: items.length,
      p50ItemBytes: percentile(sizes, 50),
      maxItemBytes: Math.max(...sizes),
      maxIndexEntryBytes: Math.max(0, ...indexed.map((item) => keysOnlyEntrySize(item, [...tableKeys, ...indexKeys]))),
      indexedShare: indexed.length / items.length,
    };
  } finally {
    client.destroy();
  }
};
