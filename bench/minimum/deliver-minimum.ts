import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

/**
 * The least a delivery can do, for figure 3: per record a conditional PutItem (the claim), one
 * POST, one UpdateItem (the record), records in parallel. No decoding, mapping, logs or metrics.
 * Bundled with the functions' esbuild options, so both run the same SDK build.
 */
const dynamodb = new DynamoDBClient({});
const table = process.env.LEDGER_TABLE_NAME ?? '';
const squadcastUrl = process.env.SQUADCAST_WEBHOOK_URL ?? '';

const deliverOne = async (alert: Record<string, unknown>): Promise<void> => {
  const key = { pk: { S: `minimum#${String(alert.id)}` } };
  await dynamodb.send(
    new PutItemCommand({ TableName: table, Item: { ...key, state: { S: 'in-flight' } }, ConditionExpression: 'attribute_not_exists(pk)' }),
  );
  const response = await fetch(squadcastUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: alert.title, event_id: alert.id, status: 'trigger' }),
  });
  await response.arrayBuffer();
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key,
      UpdateExpression: 'SET #state = :delivered',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':delivered': { S: 'delivered' } },
    }),
  );
};

export const handler = async (alerts: readonly Record<string, unknown>[]): Promise<void> => {
  await Promise.all(alerts.map(deliverOne));
};
