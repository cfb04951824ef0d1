import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createDynamoDbLedger } from '../../../lib/ledger/dynamodb-ledger';
import type { AlertVersion } from '../../../lib/ledger/ledger';
import { RETENTION_DAYS } from '../../../lib/ledger/ledger-table';
import { anAwsError } from '../../helpers/aws';

/**
 * The DynamoDB ledger's commands, at the DocumentClient's level (aws-sdk-client-mock): what each
 * step asks DynamoDB, and how each answer is read. The conditions themselves run against the
 * DynamoDB emulator in tests/integration.
 */
const TABLE = 'relay-ledger';
const NOW = new Date('2023-11-14T22:13:20.123Z');
const LEASE_MS = 45_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const HOUR = 3_600_000;

/** The take-over of an id seen before, as the contract states it: take the lease unless this version is held or another lease is live. */
const CLAIM_UPDATE =
  'SET #state = :inFlight, leaseToken = :token, leaseUntil = :leaseUntil, expiresAt = if_not_exists(expiresAt, :expires)';
const CLAIM_CONDITION = [
  'attribute_not_exists(pk) OR ((attribute_exists(fingerprints) OR #state <> :delivered)',
  'AND NOT (contains(fingerprints, :fingerprint) AND heldUntil > :now)',
  'AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now))',
].join(' ');
/** The record of a delivery: the version held, its digests, the index keys, the TTL; the lease and any failure gone. */
const COMPLETE_UPDATE = [
  'SET #state = :delivered, activity = :activity, deliveredAt = :at, expiresAt = :expires, heldUntil = :heldUntil, lastFields = :fields',
  'ADD fingerprints :fingerprint',
  'REMOVE leaseUntil, leaseToken, failingSince, lastFailure',
].join(' ');

const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } }),
);
const ddb = mockClient(DynamoDBDocumentClient);
const ledger = () => createDynamoDbLedger(client, TABLE, { leaseMs: LEASE_MS });

const version = (fingerprint = 'fp-1', fields: Record<string, string> = { title: 't1', severity: 's1' }): AlertVersion => ({
  alertId: 'alert-1',
  fingerprint,
  fields,
  holdMs: 30 * 24 * HOUR,
});

/** As DynamoDB sends it: the old item in attribute values (the DocumentClient unmarshalls answers, not errors). */
const conditionFailed = (item?: Record<string, unknown>): ConditionalCheckFailedException =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(item === undefined ? {} : { Item: marshall(item) }),
  });

beforeEach(() => ddb.reset());

/** An id seen before: the first-sight write is refused, with the old item when DynamoDB sends it. */
const seenBefore = (old?: Record<string, unknown>) => ddb.on(PutCommand).rejects(conditionFailed(old));

describe('createDynamoDbLedger: claim', () => {
  it('an id seen for the first time: one PutItem, on the one condition that no item exists, holding the lease', async () => {
    ddb.on(PutCommand).resolves({});

    const result = await ledger().claim(version(), NOW);

    expect(ddb.calls()).toHaveLength(1);
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input).toEqual({
      TableName: TABLE,
      Item: {
        pk: 'alert#alert-1',
        state: 'in-flight',
        leaseToken: expect.stringMatching(UUID),
        leaseUntil: NOW.getTime() + LEASE_MS,
        expiresAt: Math.floor(NOW.getTime() / 1000) + RETENTION_DAYS * 86_400,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    // The lease ends when the item says it does: the same instant, in the answer and in DynamoDB.
    expect(result).toEqual({
      kind: 'claimed',
      lease: { version: version(), token: input?.Item?.leaseToken, until: input?.Item?.leaseUntil },
    });
  });

  it('an id seen before, neither held nor leased: then one conditional UpdateItem, taken unless this version is held or another lease is live, reading what was there', async () => {
    seenBefore({ state: 'failed', leaseUntil: 0 });
    ddb.on(UpdateCommand).resolves({});

    const result = await ledger().claim(version(), NOW);

    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    const calls = ddb.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input).toEqual({
      TableName: TABLE,
      Key: { pk: 'alert#alert-1' },
      UpdateExpression: CLAIM_UPDATE,
      ConditionExpression: CLAIM_CONDITION,
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':inFlight': 'in-flight',
        ':delivered': 'delivered',
        ':token': put?.Item?.leaseToken,
        ':leaseUntil': NOW.getTime() + LEASE_MS,
        ':expires': Math.floor(NOW.getTime() / 1000) + RETENTION_DAYS * 86_400,
        ':fingerprint': 'fp-1',
        ':now': NOW.getTime(),
      },
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(result).toEqual({
      kind: 'claimed',
      lease: { version: version(), token: put?.Item?.leaseToken, until: NOW.getTime() + LEASE_MS },
    });
  });

  it('uses a new lease token for every claim', async () => {
    ddb.on(PutCommand).resolves({});
    const first = await ledger().claim(version(), NOW);
    const second = await ledger().claim(version(), NOW);
    expect(first.kind === 'claimed' && second.kind === 'claimed' && first.lease.token !== second.lease.token).toBe(true);
  });

  it('says when an earlier version was delivered under the id, with its field digests, read in the take-over', async () => {
    seenBefore();
    ddb.on(UpdateCommand).resolves({
      Attributes: {
        state: 'delivered',
        fingerprints: new Set(['fp-0']),
        deliveredAt: '2023-11-10T00:00:00.000Z',
        lastFields: { title: 't0' },
      },
    });

    expect(await ledger().claim(version(), NOW)).toMatchObject({
      kind: 'claimed',
      earlier: { deliveredAt: new Date('2023-11-10T00:00:00.000Z'), fields: { title: 't0' } },
    });
  });

  it('says when it took over a claim that ran out (in flight, its lease past), and not after a release', async () => {
    seenBefore({ state: 'in-flight', leaseUntil: NOW.getTime() - 1 });
    ddb.on(UpdateCommand).resolves({ Attributes: { state: 'in-flight', leaseUntil: NOW.getTime() - 1, leaseToken: 'crashed' } });
    expect(await ledger().claim(version(), NOW)).toMatchObject({ kind: 'claimed', tookOver: true });
    ddb.on(UpdateCommand).resolves({ Attributes: { state: 'failed', leaseUntil: 0 } });
    expect(await ledger().claim(version(), NOW)).not.toHaveProperty('tookOver');
  });

  it('names no earlier version for an id that was only tried before, never delivered', async () => {
    seenBefore();
    ddb.on(UpdateCommand).resolves({ Attributes: { state: 'failed', leaseUntil: 0 } });
    expect(await ledger().claim(version(), NOW)).not.toHaveProperty('earlier');
  });

  const refusedItems: [string, Record<string, unknown>, string][] = [
    ['this version, held', { state: 'delivered', fingerprints: new Set(['fp-1']), heldUntil: NOW.getTime() + HOUR }, 'already-delivered'],
    [
      'this version held, another one failing now',
      { state: 'failed', fingerprints: new Set(['fp-1']), heldUntil: NOW.getTime() + HOUR },
      'already-delivered',
    ],
    ['a record from before fingerprints', { state: 'delivered' }, 'already-delivered'],
    [
      'another version, leased',
      { state: 'in-flight', fingerprints: new Set(['fp-0']), heldUntil: NOW.getTime() + HOUR, leaseUntil: NOW.getTime() + 1 },
      'in-flight',
    ],
    ['a first claim, leased', { state: 'in-flight', leaseUntil: NOW.getTime() + 1 }, 'in-flight'],
  ];

  it.each(refusedItems)(
    'settles a duplicate or a live lease from the first refusal alone, in one request (%s)',
    async (_name, item, kind) => {
      seenBefore(item);
      expect(await ledger().claim(version(), NOW)).toEqual({ kind });
      expect(ddb.calls()).toHaveLength(1);
    },
  );

  it.each(refusedItems)('reads a refused take-over from the item in its exception (%s)', async (_name, item, kind) => {
    seenBefore();
    ddb.on(UpdateCommand).rejects(conditionFailed(item));

    expect(await ledger().claim(version(), NOW)).toEqual({ kind });
    expect(ddb.calls()).toHaveLength(2);
  });

  it.each<[string, Record<string, unknown> | undefined, string]>([
    ['delivered', { state: 'delivered' }, 'already-delivered'],
    ['in-flight', { state: 'in-flight' }, 'in-flight'],
    ['gone', undefined, 'in-flight'],
  ])('falls back to a consistent GetItem when no refusal carries the item, as on an emulator (%s)', async (_name, item, kind) => {
    seenBefore();
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves(item === undefined ? {} : { Item: item });

    expect(await ledger().claim(version(), NOW)).toEqual({ kind });
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'alert#alert-1' },
      ConsistentRead: true,
    });
  });

  it.each([
    ['the first-sight write', () => ddb.on(PutCommand).rejects(anAwsError('ProvisionedThroughputExceededException'))],
    [
      'the take-over',
      () => {
        seenBefore();
        ddb.on(UpdateCommand).rejects(anAwsError('ProvisionedThroughputExceededException'));
      },
    ],
  ])('lets any other error of %s reject (deliver retries the record)', async (_name, arrange) => {
    arrange();
    await expect(ledger().claim(version(), NOW)).rejects.toThrow('ProvisionedThroughputExceededException');
  });
});

describe('createDynamoDbLedger: complete', () => {
  it('records the delivery: the version held for its hold, its digests, deliveredAt for the index, expiresAt 30 days on', async () => {
    ddb.on(UpdateCommand).resolves({});

    await ledger().complete({ version: version(), token: 't', until: 0 }, NOW);

    expect(ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Key: { pk: 'alert#alert-1' },
        UpdateExpression: COMPLETE_UPDATE,
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':delivered': 'delivered',
          ':activity': 'delivered',
          ':at': '2023-11-14T22:13:20.123Z',
          // 2023-12-14T22:13:20.123Z, floored to the second.
          ':expires': 1_702_592_000,
          ':heldUntil': NOW.getTime() + 30 * 24 * HOUR,
          ':fields': { title: 't1', severity: 's1' },
          ':fingerprint': new Set(['fp-1']),
        },
      },
    ]);
  });

  it('is unconditional (the incident exists, whatever happened to the lease)', async () => {
    ddb.on(UpdateCommand).resolves({});
    await ledger().complete({ version: version(), token: 't', until: 0 }, NOW);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).not.toHaveProperty('ConditionExpression');
  });

  it('lets a failure reject', async () => {
    ddb.on(UpdateCommand).rejects(anAwsError('InternalServerError'));
    await expect(ledger().complete({ version: version(), token: 't', until: 0 }, NOW)).rejects.toThrow('InternalServerError');
  });
});

describe('createDynamoDbLedger: release', () => {
  it('gives the claim up only if this lease still holds it', async () => {
    ddb.on(UpdateCommand).resolves({});

    await ledger().release({ version: version(), token: 'lease-token', until: 0 });

    expect(ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Key: { pk: 'alert#alert-1' },
        UpdateExpression: 'SET #state = :failed, leaseUntil = :zero',
        ConditionExpression: 'leaseToken = :token',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':failed': 'failed', ':zero': 0, ':token': 'lease-token' },
      },
    ]);
  });

  it('after a failed send, keeps the first failure time and the latest reason (cut to 200 characters)', async () => {
    ddb.on(UpdateCommand).resolves({});

    await ledger().release({ version: version(), token: 'lease-token', until: 0 }, { at: NOW, reason: `squadcast 503 ${'x'.repeat(300)}` });

    const [input] = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(input?.UpdateExpression).toBe(
      'SET #state = :failed, leaseUntil = :zero, failingSince = if_not_exists(failingSince, :failedAt), lastFailure = :reason',
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':failedAt': NOW.getTime() });
    expect(String(input?.ExpressionAttributeValues?.[':reason'])).toHaveLength(200);
  });

  it('after a move to the dead-letter queue, keeps the reason and ends the failing time (a redrive starts afresh)', async () => {
    ddb.on(UpdateCommand).resolves({});

    await ledger().release(
      { version: version(), token: 'lease-token', until: 0 },
      { at: NOW, reason: 'Squadcast answered 401', deadLettered: true },
    );

    const [input] = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(input?.UpdateExpression).toBe('SET #state = :failed, leaseUntil = :zero, lastFailure = :reason REMOVE failingSince');
    expect(input?.ExpressionAttributeValues).toEqual({
      ':failed': 'dead-lettered',
      ':zero': 0,
      ':token': 'lease-token',
      ':reason': 'Squadcast answered 401',
    });
  });

  it('hands the first failure time to the next claim', async () => {
    seenBefore();
    ddb.on(UpdateCommand).resolves({ Attributes: { state: 'failed', leaseUntil: 0, failingSince: NOW.getTime() - 60_000 } });
    expect(await ledger().claim(version(), NOW)).toMatchObject({ kind: 'claimed', failingSince: new Date(NOW.getTime() - 60_000) });
  });

  it('ignores a lease that someone else took over', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(ledger().release({ version: version(), token: 't', until: 0 })).resolves.toBeUndefined();
  });

  it('lets any other error reject', async () => {
    ddb.on(UpdateCommand).rejects(anAwsError('ResourceNotFoundException'));
    await expect(ledger().release({ version: version(), token: 't', until: 0 })).rejects.toThrow('ResourceNotFoundException');
  });
});
