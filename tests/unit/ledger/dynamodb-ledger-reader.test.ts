import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createDynamoDbLedgerReader } from '../../../lib/ledger/dynamodb-ledger-reader';
import { DELIVERED_AT_INDEX } from '../../../lib/ledger/ledger-table';
import { anAwsError } from '../../helpers/aws';

/** What the status reads of the ledger, at the DocumentClient's level (aws-sdk-client-mock). */
const TABLE = 'relay-ledger';
const NOW = new Date('2023-11-14T22:13:20.123Z');

const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } }),
);
const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => ddb.reset());

describe('createDynamoDbLedgerReader: lookup', () => {
  const reader = () => createDynamoDbLedgerReader(client, TABLE);

  it("reads one alert's delivery record, consistently, without its digests", async () => {
    ddb.on(GetCommand).resolves({
      Item: {
        state: 'failed',
        failingSince: NOW.getTime() - 60_000,
        lastFailure: 'Squadcast answered 503',
        deliveredAt: '2023-11-10T00:00:00.000Z',
      },
    });
    expect(await reader().lookup('alert-1')).toEqual({
      state: 'failed',
      failingSince: new Date(NOW.getTime() - 60_000),
      lastFailure: 'Squadcast answered 503',
      deliveredAt: new Date('2023-11-10T00:00:00.000Z'),
    });
    expect(ddb.commandCalls(GetCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Key: { pk: 'alert#alert-1' },
        ConsistentRead: true,
        ProjectionExpression: '#state, deliveredAt, failingSince, lastFailure',
        ExpressionAttributeNames: { '#state': 'state' },
      },
    ]);
  });

  it.each<[string, Record<string, unknown> | undefined, unknown]>([
    ['no record', undefined, undefined],
    ['delivered', { state: 'delivered', deliveredAt: '2023-11-14T22:13:20.123Z' }, { state: 'delivered', deliveredAt: NOW }],
    [
      'dead-lettered',
      { state: 'dead-lettered', lastFailure: 'Squadcast answered 401' },
      { state: 'dead-lettered', lastFailure: 'Squadcast answered 401' },
    ],
    ['an unknown state', { state: 'odd' }, { state: 'failed' }],
  ])('%s', async (_name, item, expected) => {
    ddb.on(GetCommand).resolves(item === undefined ? {} : { Item: item });
    expect(await reader().lookup('alert-1')).toEqual(expected);
  });
});

describe('createDynamoDbLedgerReader: summarize', () => {
  const SINCE = new Date('2023-10-15T22:13:20.123Z');
  const at = (iso: string) => ({ deliveredAt: iso });
  const reader = () => createDynamoDbLedgerReader(client, TABLE);

  it('reads the latest delivery, and counts the deliveries since per UTC day in one pass over every page', async () => {
    ddb.on(QueryCommand, { Limit: 1 }).resolves({ Items: [at('2023-11-14T20:00:00.000Z')] });
    ddb
      .on(QueryCommand, { ProjectionExpression: 'deliveredAt' })
      .resolvesOnce({ Items: [at('2023-10-15T23:00:00.000Z'), at('2023-11-13T23:59:59.999Z')], LastEvaluatedKey: { pk: 'alert#p1' } })
      .resolvesOnce({ Items: [at('2023-11-14T00:00:00.000Z'), {}], LastEvaluatedKey: { pk: 'alert#p2' } })
      .resolvesOnce({ Items: [at('2023-11-14T10:00:00.000Z')] });

    expect(await reader().summarize(SINCE)).toEqual({
      lastDeliveredAt: new Date('2023-11-14T20:00:00.000Z'),
      deliveredSince: 4,
      perDay: { '2023-10-15': 1, '2023-11-13': 1, '2023-11-14': 2 },
    });
    const inputs = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs.find((input) => input.Limit === 1)).toEqual({
      TableName: TABLE,
      IndexName: DELIVERED_AT_INDEX,
      KeyConditionExpression: 'activity = :activity',
      ExpressionAttributeValues: { ':activity': 'delivered' },
      ScanIndexForward: false,
      Limit: 1,
    });
    const window = inputs.filter((input) => input.Limit === undefined);
    expect(window.map((input) => input.ExclusiveStartKey)).toEqual([undefined, { pk: 'alert#p1' }, { pk: 'alert#p2' }]);
    expect(window[0]).toEqual({
      TableName: TABLE,
      IndexName: 'delivered-at',
      KeyConditionExpression: 'activity = :activity AND deliveredAt >= :since',
      ExpressionAttributeValues: { ':activity': 'delivered', ':since': '2023-10-15T22:13:20.123Z' },
      ProjectionExpression: 'deliveredAt',
      ExclusiveStartKey: undefined,
    });
  });

  it('reads an empty table as never delivered', async () => {
    ddb.on(QueryCommand).resolves({ Items: [], Count: 0 });
    expect(await reader().summarize(SINCE)).toEqual({ lastDeliveredAt: null, deliveredSince: 0, perDay: {} });
  });

  it('reads a page without Items as empty', async () => {
    ddb.on(QueryCommand).resolves({});
    expect((await reader().summarize(SINCE)).deliveredSince).toBe(0);
  });

  it('lets a failed query reject', async () => {
    ddb.on(QueryCommand).rejects(anAwsError('ResourceNotFoundException'));
    await expect(reader().summarize(SINCE)).rejects.toThrow('ResourceNotFoundException');
  });
});
