import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbLedger, createDynamoDbLedgerReader, DELIVERED_AT_INDEX, RETENTION_DAYS } from '../../../lib/ledger/dynamodb-ledger';
import { anAwsError, fakeAwsClient } from '../../helpers/aws';

const TABLE = 'relay-ledger';
const NOW = new Date('2023-11-14T22:13:20.123Z');
const LEASE_MS = 45_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const conditionFailed = (item?: Record<string, AttributeValue>): ConditionalCheckFailedException =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(item === undefined ? {} : { Item: item }),
  });

type Input = Record<string, unknown>;

describe('createDynamoDbLedger: claim', () => {
  it('sends a conditional PutItem that takes a new, released or expired claim', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>();
    const result = await createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).claim('alert-1', NOW);
    expect(dynamodb.send.mock.calls[0]?.[0]).toBeInstanceOf(PutItemCommand);
    const [command] = dynamodb.commands();
    expect(command?.name).toBe('PutItemCommand');
    expect(command?.input).toEqual({
      TableName: TABLE,
      Item: {
        pk: { S: 'alert#alert-1' },
        state: { S: 'in-flight' },
        leaseToken: { S: expect.stringMatching(UUID) },
        leaseUntil: { N: String(NOW.getTime() + LEASE_MS) },
        expiresAt: { N: String(Math.floor(NOW.getTime() / 1000) + RETENTION_DAYS * 86_400) },
      },
      ConditionExpression: 'attribute_not_exists(pk) OR (#state <> :delivered AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':delivered': { S: 'delivered' }, ':now': { N: String(NOW.getTime()) } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const token = (command?.input.Item as Record<string, AttributeValue> | undefined)?.leaseToken?.S;
    expect(result).toEqual({ kind: 'claimed', lease: { alertId: 'alert-1', token } });
  });

  it('uses a new lease token for every claim', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>();
    const ledger = createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS });
    const first = await ledger.claim('a', NOW);
    const second = await ledger.claim('a', NOW);
    expect(first.kind === 'claimed' && second.kind === 'claimed' && first.lease.token !== second.lease.token).toBe(true);
  });

  it.each<[string, Record<string, AttributeValue>, string]>([
    ['delivered', { pk: { S: 'alert#a' }, state: { S: 'delivered' } }, 'already-delivered'],
    ['in-flight', { pk: { S: 'alert#a' }, state: { S: 'in-flight' }, leaseUntil: { N: String(NOW.getTime() + 1) } }, 'in-flight'],
  ])('reads a refused claim from the item in the exception (state %s)', async (_name, item, kind) => {
    const dynamodb = fakeAwsClient<DynamoDBClient>((name) => {
      if (name === 'PutItemCommand') throw conditionFailed(item);
      throw new Error(`unexpected ${name}`);
    });
    expect(await createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).claim('a', NOW)).toEqual({ kind });
    expect(dynamodb.commands().map((c) => c.name)).toEqual(['PutItemCommand']);
  });

  it.each<[string, Record<string, AttributeValue> | undefined, string]>([
    ['delivered', { pk: { S: 'alert#a' }, state: { S: 'delivered' } }, 'already-delivered'],
    ['in-flight', { pk: { S: 'alert#a' }, state: { S: 'in-flight' } }, 'in-flight'],
    ['gone', undefined, 'in-flight'],
  ])('falls back to a consistent GetItem when the exception has no item (state %s)', async (_name, item, kind) => {
    const dynamodb = fakeAwsClient<DynamoDBClient>((name) => {
      if (name === 'PutItemCommand') throw conditionFailed();
      return item === undefined ? {} : { Item: item };
    });
    expect(await createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).claim('a', NOW)).toEqual({ kind });
    expect(dynamodb.commands()[1]).toEqual({
      name: 'GetItemCommand',
      input: { TableName: TABLE, Key: { pk: { S: 'alert#a' } }, ConsistentRead: true },
    });
  });

  it('recognises the condition failure by name too (another copy of the SDK)', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>((name) => {
      if (name === 'PutItemCommand') throw anAwsError('ConditionalCheckFailedException', { Item: { state: { S: 'delivered' } } });
      return {};
    });
    expect(await createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).claim('a', NOW)).toEqual({
      kind: 'already-delivered',
    });
  });

  it('lets any other error reject (deliver retries the record)', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>(() => {
      throw anAwsError('ProvisionedThroughputExceededException');
    });
    await expect(createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).claim('a', NOW)).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
  });
});

describe('createDynamoDbLedger: complete', () => {
  it('marks the alert delivered, with deliveredAt for the index and expiresAt = deliveredAt + 30 days in epoch seconds', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>();
    await createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).complete({ alertId: 'alert-1', token: 't' }, NOW);
    expect(dynamodb.commands()).toEqual([
      {
        name: 'UpdateItemCommand',
        input: {
          TableName: TABLE,
          Key: { pk: { S: 'alert#alert-1' } },
          UpdateExpression:
            'SET #state = :delivered, activity = :activity, deliveredAt = :at, expiresAt = :expires REMOVE leaseUntil, leaseToken',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':delivered': { S: 'delivered' },
            ':activity': { S: 'delivered' },
            ':at': { S: '2023-11-14T22:13:20.123Z' },
            // 2023-12-14T22:13:20.123Z, floored to the second.
            ':expires': { N: '1702592000' },
          },
        },
      },
    ]);
    expect(Number('1702592000') * 1000).toBe(Math.floor((NOW.getTime() + 30 * 86_400_000) / 1000) * 1000);
  });

  it('is unconditional (the incident exists, whatever happened to the lease)', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>();
    await createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).complete({ alertId: 'a', token: 't' }, NOW);
    expect(dynamodb.commands()[0]?.input).not.toHaveProperty('ConditionExpression');
  });

  it('lets a failure reject', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>(() => {
      throw anAwsError('InternalServerError');
    });
    await expect(
      createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).complete({ alertId: 'a', token: 't' }, NOW),
    ).rejects.toThrow('InternalServerError');
  });
});

describe('createDynamoDbLedger: release', () => {
  it('gives the claim up only if this lease still holds it', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>();
    await createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).release({ alertId: 'a', token: 'lease-token' });
    expect(dynamodb.commands()).toEqual([
      {
        name: 'UpdateItemCommand',
        input: {
          TableName: TABLE,
          Key: { pk: { S: 'alert#a' } },
          UpdateExpression: 'SET #state = :failed, leaseUntil = :zero',
          ConditionExpression: 'leaseToken = :token',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':failed': { S: 'failed' }, ':zero': { N: '0' }, ':token': { S: 'lease-token' } },
        },
      },
    ]);
  });

  it('ignores a lease that someone else took over', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>(() => {
      throw conditionFailed();
    });
    await expect(
      createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).release({ alertId: 'a', token: 't' }),
    ).resolves.toBeUndefined();
  });

  it('lets any other error reject', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>(() => {
      throw anAwsError('ResourceNotFoundException');
    });
    await expect(createDynamoDbLedger(dynamodb.client, TABLE, { leaseMs: LEASE_MS }).release({ alertId: 'a', token: 't' })).rejects.toThrow(
      'ResourceNotFoundException',
    );
  });
});

describe('createDynamoDbLedgerReader: summarize', () => {
  const SINCE = new Date('2023-10-15T22:13:20.123Z');
  const isLatest = (input: Input): boolean => input.Limit === 1;
  const at = (iso: string) => ({ deliveredAt: { S: iso } });

  it('reads the latest delivery, and counts the deliveries since per UTC day in one pass over every page', async () => {
    const pages = [
      { Items: [at('2023-10-15T23:00:00.000Z'), at('2023-11-13T23:59:59.999Z')], LastEvaluatedKey: { pk: { S: 'alert#p1' } } },
      { Items: [at('2023-11-14T00:00:00.000Z'), {}], LastEvaluatedKey: { pk: { S: 'alert#p2' } } },
      { Items: [at('2023-11-14T10:00:00.000Z')] },
    ];
    let page = 0;
    const dynamodb = fakeAwsClient<DynamoDBClient>((_name, input) =>
      isLatest(input) ? { Items: [at('2023-11-14T20:00:00.000Z')] } : pages[page++],
    );
    const summary = await createDynamoDbLedgerReader(dynamodb.client, TABLE).summarize(SINCE);
    expect(summary).toEqual({
      lastDeliveredAt: new Date('2023-11-14T20:00:00.000Z'),
      deliveredSince: 4,
      perDay: { '2023-10-15': 1, '2023-11-13': 1, '2023-11-14': 2 },
    });

    const inputs = dynamodb.inputsOf('QueryCommand');
    expect(inputs.find(isLatest)).toEqual({
      TableName: TABLE,
      IndexName: DELIVERED_AT_INDEX,
      KeyConditionExpression: 'activity = :activity',
      ExpressionAttributeValues: { ':activity': { S: 'delivered' } },
      ScanIndexForward: false,
      Limit: 1,
    });
    const window = inputs.filter((input) => !isLatest(input));
    expect(window.map((input) => input.ExclusiveStartKey)).toEqual([undefined, { pk: { S: 'alert#p1' } }, { pk: { S: 'alert#p2' } }]);
    expect(window[0]).toEqual({
      TableName: TABLE,
      IndexName: 'delivered-at',
      KeyConditionExpression: 'activity = :activity AND deliveredAt >= :since',
      ExpressionAttributeValues: { ':activity': { S: 'delivered' }, ':since': { S: '2023-10-15T22:13:20.123Z' } },
      ProjectionExpression: 'deliveredAt',
      ExclusiveStartKey: undefined,
    });
  });

  it('reads an empty table as never delivered', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>(() => ({ Items: [], Count: 0 }));
    expect(await createDynamoDbLedgerReader(dynamodb.client, TABLE).summarize(SINCE)).toEqual({
      lastDeliveredAt: null,
      deliveredSince: 0,
      perDay: {},
    });
  });

  it('reads a page without Items as empty', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>(() => ({}));
    expect((await createDynamoDbLedgerReader(dynamodb.client, TABLE).summarize(SINCE)).deliveredSince).toBe(0);
  });

  it('lets a failed query reject', async () => {
    const dynamodb = fakeAwsClient<DynamoDBClient>(() => {
      throw anAwsError('ResourceNotFoundException');
    });
    await expect(createDynamoDbLedgerReader(dynamodb.client, TABLE).summarize(SINCE)).rejects.toThrow('ResourceNotFoundException');
  });
});
