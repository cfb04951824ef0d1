import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { configErrorOf } from '../helpers/config-error';
import { anAlert, anSqsEvent, anSqsRecord, aQueuedAlertBody, SENTINEL } from '../helpers/factories';
import type { LoadedHandler } from '../helpers/load-handler';
import { answerSendMessageBatch, BASE_LAMBDA_ENV, captureOutput, commandsOf, loadHandler } from '../helpers/load-handler';

type DeliverModule = typeof import('../../handlers/deliver');

const SQUADCAST_URL = 'http://127.0.0.1:9/x';
const ENV = {
  ...BASE_LAMBDA_ENV,
  SQUADCAST_WEBHOOK_URL: SQUADCAST_URL,
  // No rate-limit waits in a unit test: the limiter has its own tests.
  SQUADCAST_MAX_PER_MINUTE: '100000',
  DELIVERY_RETRY_BASE_SECONDS: '20',
  DELIVERY_RETRY_MAX_SECONDS: '300',
};
const load = (env: Record<string, string | undefined> = ENV) => loadHandler(env, () => require('../../handlers/deliver') as DeliverModule);

/** DynamoDB and SQS that accept everything; a claim on an id in `delivered` is refused as delivered. */
const awsAccepts = (loaded: LoadedHandler<DeliverModule>, delivered: ReadonlySet<string> = new Set()): void => {
  loaded.dynamodbSend.mockImplementation(async (command) => {
    const { constructor: type, input } = command as {
      constructor: { name: string };
      input: { Key?: { pk?: string }; Item?: { pk?: string }; ConditionExpression?: string };
    };
    const alertId = (input.Key ?? input.Item)?.pk?.replace(/^alert#/, '');
    // The first-sight write and the take-over both begin with this condition.
    const isClaim = input.ConditionExpression?.startsWith('attribute_not_exists(pk)') === true && type.name !== 'GetCommand';
    if (isClaim && alertId !== undefined && delivered.has(alertId)) {
      // As DynamoDB answers a claim on an alert delivered before fingerprints: its old item, in attribute values.
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: { state: { S: 'delivered' } },
      });
    }
    return {};
  });
  answerSendMessageBatch(loaded.sqsSend);
};

const fetchMock = jest.fn<Promise<Response>, [string, RequestInit]>();
const realFetch = global.fetch;
let output: ReturnType<typeof captureOutput>;

beforeAll(() => {
  global.fetch = fetchMock as unknown as typeof fetch;
});
afterAll(() => {
  global.fetch = realFetch;
  jest.restoreAllMocks();
});
beforeEach(() => {
  output = captureOutput();
  fetchMock.mockReset();
  fetchMock.mockImplementation(async () => new Response(null, { status: 202 }));
});
afterEach(() => output.restore());

describe('deliver handler', () => {
  const loaded = load();
  const { handler } = loaded.module;
  beforeEach(() => {
    loaded.sqsSend.mockClear();
    loaded.dynamodbSend.mockClear();
    awsAccepts(loaded);
  });

  it('POSTs each alert to Squadcast, records it, and answers { batchItemFailures: [] }', async () => {
    const alert = anAlert({ title: 'Host:  sudo to root', severity: 1 });
    const response = await handler(anSqsEvent([anSqsRecord({ body: aQueuedAlertBody(alert) })]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe(SQUADCAST_URL);
    expect(init).toEqual(expect.objectContaining({ method: 'POST', headers: { 'content-type': 'application/json' }, redirect: 'manual' }));
    expect(JSON.parse(String(init?.body))).toEqual(
      expect.objectContaining({ event_id: alert.id, message: 'Host:  sudo to root', priority: 'P1', status: 'trigger' }),
    );
    // The claim (a first sight of the id) and the record: two requests per delivered alert.
    expect(commandsOf(loaded.dynamodbSend).map((c) => [c.name, c.input.TableName])).toEqual([
      ['PutCommand', ENV.LEDGER_TABLE_NAME],
      ['UpdateCommand', ENV.LEDGER_TABLE_NAME],
    ]);
  });

  it('reports only the records to retry, as { batchItemFailures: [{ itemIdentifier }] }, and backs them off', async () => {
    const failing = anAlert();
    fetchMock.mockImplementation(async (_url, init) =>
      JSON.parse(String(init.body)).event_id === failing.id ? new Response(null, { status: 503 }) : new Response(null, { status: 202 }),
    );
    const ok = anSqsRecord({ body: aQueuedAlertBody(anAlert()) });
    const retried = anSqsRecord({
      messageId: 'retry-me',
      receiptHandle: 'rh-retry',
      body: aQueuedAlertBody(failing),
      receiveCount: '1',
      sentTimestamp: String(Date.now() - 60_000),
    });
    const response = await handler(anSqsEvent([ok, retried]));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'retry-me' }] });
    const visibility = commandsOf(loaded.sqsSend).filter((c) => c.name === 'ChangeMessageVisibilityCommand');
    expect(visibility).toHaveLength(1);
    expect(visibility[0]?.input).toEqual({
      QueueUrl: ENV.ALERTS_QUEUE_URL,
      ReceiptHandle: 'rh-retry',
      VisibilityTimeout: expect.any(Number),
    });
    const seconds = Number(visibility[0]?.input.VisibilityTimeout);
    expect(seconds).toBeGreaterThanOrEqual(10);
    expect(seconds).toBeLessThanOrEqual(20);
  });

  it('dead-letters an alert Squadcast refuses, and does not report it', async () => {
    fetchMock.mockImplementation(async () => new Response('bad', { status: 400 }));
    const alert = anAlert();
    const response = await handler(anSqsEvent([anSqsRecord({ body: aQueuedAlertBody(alert) })]));
    expect(response).toEqual({ batchItemFailures: [] });
    const dlq = commandsOf(loaded.sqsSend).filter((c) => c.name === 'SendMessageBatchCommand');
    expect(dlq.map((c) => c.input.QueueUrl)).toEqual([ENV.DEAD_LETTER_QUEUE_URL]);
    const entries = (dlq[0]?.input as SendMessageBatchCommandInput | undefined)?.Entries ?? [];
    expect(JSON.parse(entries[0]?.MessageBody ?? '')).toEqual(
      expect.objectContaining({ alert, failure: expect.objectContaining({ stage: 'deliver', reason: 'Squadcast answered 400' }) }),
    );
  });

  it("dead-letters an alert Squadcast still fails after DELIVERY_GIVE_UP_HOURS (24), counted from SQS's SentTimestamp", async () => {
    fetchMock.mockImplementation(async () => new Response(null, { status: 503 }));
    const alert = anAlert();
    const sentTimestamp = String(Date.now() - 25 * 3_600_000);
    const response = await handler(anSqsEvent([anSqsRecord({ body: aQueuedAlertBody(alert), sentTimestamp })]));
    expect(response).toEqual({ batchItemFailures: [] });
    const dlq = commandsOf(loaded.sqsSend).filter((c) => c.name === 'SendMessageBatchCommand');
    expect(dlq.map((c) => c.input.QueueUrl)).toEqual([ENV.DEAD_LETTER_QUEUE_URL]);
    const entries = (dlq[0]?.input as SendMessageBatchCommandInput | undefined)?.Entries ?? [];
    expect(JSON.parse(entries[0]?.MessageBody ?? '').failure.reason).toMatch(
      /^Squadcast answered 503; still failing after 25 h 0 min in the queue \(give-up budget 24 h 0 min\)$/,
    );
  });

  it('does not POST an alert already delivered', async () => {
    const alert = anAlert();
    awsAccepts(loaded, new Set([alert.id]));
    expect(await handler(anSqsEvent([anSqsRecord({ body: aQueuedAlertBody(alert) })]))).toEqual({ batchItemFailures: [] });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('dead-letters an undecodable record', async () => {
    const response = await handler(anSqsEvent([anSqsRecord({ body: `not json ${SENTINEL}` })]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fetchMock).not.toHaveBeenCalled();
    expect(commandsOf(loaded.sqsSend).map((c) => c.input.QueueUrl)).toEqual([ENV.DEAD_LETTER_QUEUE_URL]);
    expect(output.text()).not.toContain(SENTINEL);
  });

  it('retries every record while DynamoDB is down', async () => {
    loaded.dynamodbSend.mockImplementation(async () => Promise.reject(Object.assign(new Error('down'), { name: 'InternalServerError' })));
    const records = [anSqsRecord({ messageId: 'a' }), anSqsRecord({ messageId: 'b' })];
    expect(await handler(anSqsEvent(records))).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }] });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('answers an empty event with no failures', async () => {
    expect(await handler(anSqsEvent([]))).toEqual({ batchItemFailures: [] });
  });

  it('never writes the Squadcast URL to the logs', async () => {
    fetchMock.mockImplementation(async () =>
      Promise.reject(
        new TypeError('fetch failed', {
          cause: Object.assign(new Error(`connect ECONNREFUSED ${SQUADCAST_URL}`), { code: 'ECONNREFUSED' }),
        }),
      ),
    );
    await handler(anSqsEvent([anSqsRecord()]));
    expect(output.text()).toContain('ECONNREFUSED');
    expect(output.text()).not.toContain('127.0.0.1:9');
  });
});

describe('deliver handler configuration', () => {
  it.each<[string, Record<string, string | undefined>, string]>([
    ['DELIVERY_CONCURRENCY=abc', { DELIVERY_CONCURRENCY: `abc${SENTINEL}` }, 'DELIVERY_CONCURRENCY: expected integer 1..100'],
    ['no Squadcast URL', { SQUADCAST_WEBHOOK_URL: undefined }, 'SQUADCAST_WEBHOOK_URL'],
  ])('fails the cold start on %s with a ConfigError naming the key', (_name, env, named) => {
    const thrown = configErrorOf(() => load({ ...ENV, ...env }));
    expect(thrown.message).toContain(named);
    expect(thrown.message).not.toContain(SENTINEL);
  });

  it('fails the invocation (the whole batch comes back) on a plain-http Squadcast URL, without quoting it', async () => {
    const url = `http://api.squadcast.com/v2/incidents/api/${SENTINEL}`;
    const loaded = load({ ...ENV, SQUADCAST_WEBHOOK_URL: url });
    awsAccepts(loaded);
    const failure = loaded.module.handler(anSqsEvent([anSqsRecord()]));
    await expect(failure).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('SQUADCAST_WEBHOOK_URL: must be an https URL'),
    });
    await expect(failure).rejects.not.toMatchObject({ message: expect.stringContaining(SENTINEL) });
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
