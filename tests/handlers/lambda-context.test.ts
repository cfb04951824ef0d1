import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import {
  aBatchBody,
  anAlert,
  anIngestEvent,
  anSqsEvent,
  anSqsRecord,
  aQueuedAlertBody,
  aRawAlert,
  TEST_WEBHOOK_TOKEN,
} from '../helpers/factories';
import { anSsmError, FakeSsmService, fakeWallClock } from '../helpers/fake-ssm';
import type { SendSpy } from '../helpers/load-handler';
import { BASE_LAMBDA_ENV, capturedEachTest, loadHandler } from '../helpers/load-handler';

/**
 * Every log line of a Lambda invocation carries the invocation's request id and cold-start flag
 * (Powertools Logger's `function_request_id`, `cold_start`), whichever code wrote it: the domain,
 * the secret reader, the wrapper. Each function's real handler module is loaded as Lambda loads it
 * and invoked with a Lambda context. Embedded Metric Format documents (`_aws`) are metrics, which
 * CloudWatch reads by name and dimension; they are checked apart.
 */
type IngestModule = typeof import('../../handlers/ingest');
type DeliverModule = typeof import('../../handlers/deliver');
type StatusModule = typeof import('../../handlers/status');
type TestAlertModule = typeof import('../../handlers/test-alert');
type SsmModule = typeof import('@aws-sdk/client-ssm');
type Line = Record<string, unknown>;

// Lambda sets it in on-demand containers; Powertools reports a cold start only then.
const LAMBDA_ENV = { ...BASE_LAMBDA_ENV, AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' };

const aContext = (functionName: string, awsRequestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: `threatstack-squadcast-relay-unit-${functionName}`,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:threatstack-squadcast-relay-unit-${functionName}`,
  memoryLimitInMB: '256',
  awsRequestId,
  logGroupName: `/aws/lambda/threatstack-squadcast-relay-unit-${functionName}`,
  logStreamName: '2026/12/01/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

const output = capturedEachTest();

/** Runs one invocation and returns the lines it wrote: log lines and metric documents apart. */
const invocation = async (run: () => Promise<unknown>): Promise<{ logs: Line[]; metrics: Line[] }> => {
  output.clear();
  await run().catch(() => undefined);
  const lines = output.lines();
  return { logs: lines.filter((line) => !('_aws' in line)), metrics: lines.filter((line) => '_aws' in line) };
};

/** The request id and cold-start flag of every log line. */
const contextOf = (logs: readonly Line[]) => logs.map((line) => [line.function_request_id, line.cold_start]);

const sqsAccepts = (spy: SendSpy): void => {
  spy.mockImplementation(async (command) => {
    const input = (command as { input: SendMessageBatchCommandInput & { MessageBody?: string } }).input;
    if (input.Entries === undefined) return { MessageId: 'message-1' };
    return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })), Failed: [] };
  });
};

describe('ingest: every log line of an invocation carries its request id', () => {
  it('on the domain lines, the secret reader warning and a refusal, cold start on the first invocation only', async () => {
    const clock = fakeWallClock(Date.parse('2026-12-01T10:00:00Z'));
    try {
      let ssmModule: SsmModule | undefined;
      const loaded = loadHandler(
        { ...LAMBDA_ENV, WEBHOOK_TOKEN: undefined, WEBHOOK_TOKEN_PARAMETER: '/relay/unit/webhook-token', SECRETS_MAX_AGE_SECONDS: '300' },
        () => {
          ssmModule = require('@aws-sdk/client-ssm') as SsmModule;
          return require('../../handlers/ingest') as IngestModule;
        },
      );
      if (ssmModule === undefined) throw new Error('no SSM module');
      const ssm = new FakeSsmService().serve(loaded.ssmSend, ssmModule);
      ssm.put('/relay/unit/webhook-token', TEST_WEBHOOK_TOKEN);
      sqsAccepts(loaded.sqsSend);
      const { handler } = loaded.module;

      const first = await invocation(() =>
        handler(
          anIngestEvent({ body: aBatchBody([anAlert(), aRawAlert({ severity: 0 }), 'not an alert']) }),
          aContext('ingest', 'ingest-request-1'),
        ),
      );
      clock.advance(301);
      ssm.failWith(() => anSsmError('ThrottlingException'));
      const second = await invocation(() => handler(anIngestEvent(), aContext('ingest', 'ingest-request-2')));
      const third = await invocation(() =>
        handler(anIngestEvent({ token: 'wrong-token-0123456789' }), aContext('ingest', 'ingest-request-3')),
      );

      expect(first.logs.map((line) => line.message)).toEqual([
        'invalid alerts sent to the dead-letter queue',
        'alerts queued with fields the relay could not read; they page as degraded incidents',
        'webhook accepted',
      ]);
      expect(second.logs.map((line) => line.message)).toEqual(['secret parameter could not be read', 'webhook accepted']);
      expect(third.logs.map((line) => line.message)).toEqual(['webhook refused']);
      expect(contextOf(first.logs)).toEqual(first.logs.map(() => ['ingest-request-1', true]));
      expect(contextOf(second.logs)).toEqual(second.logs.map(() => ['ingest-request-2', false]));
      expect(contextOf(third.logs)).toEqual([['ingest-request-3', false]]);
      expect(first.logs[0]).toEqual(
        expect.objectContaining({
          service: 'ingest',
          function_name: 'threatstack-squadcast-relay-unit-ingest',
          function_memory_size: '256',
        }),
      );
      expect(first.metrics).toHaveLength(1);
    } finally {
      clock.restore();
    }
  });
});

describe('deliver: every log line carries the request id; a line about an alert keeps correlation_id = the alert id', () => {
  const fetchMock = jest.fn<Promise<Response>, [string, RequestInit]>();
  const realFetch = global.fetch;
  beforeAll(() => {
    global.fetch = fetchMock as unknown as typeof fetch;
  });
  afterAll(() => {
    global.fetch = realFetch;
  });
  const ENV = {
    ...LAMBDA_ENV,
    SQUADCAST_WEBHOOK_URL: 'https://api.squadcast.com/v2/incidents/api/KEY',
    SQUADCAST_MAX_PER_MINUTE: '100000',
  };

  it('across a batch with a delivery, a retry and a dead letter, and on a second invocation', async () => {
    const loaded = loadHandler(ENV, () => require('../../handlers/deliver') as DeliverModule);
    loaded.dynamodbSend.mockImplementation(async () => ({}));
    sqsAccepts(loaded.sqsSend);
    const [delivered, retried, refused] = [anAlert(), anAlert(), anAlert()];
    const statusFor: Record<string, number> = { [delivered.id]: 202, [retried.id]: 503, [refused.id]: 400 };
    fetchMock.mockImplementation(
      async (_url, init) => new Response(null, { status: statusFor[JSON.parse(String(init.body)).event_id] ?? 500 }),
    );
    const batch = anSqsEvent([delivered, retried, refused].map((alert) => anSqsRecord({ body: aQueuedAlertBody(alert) })));

    const first = await invocation(() => loaded.module.handler(batch, aContext('deliver', 'deliver-request-1')));
    const second = await invocation(() =>
      loaded.module.handler(anSqsEvent([anSqsRecord({ body: aQueuedAlertBody(delivered) })]), aContext('deliver', 'deliver-request-2')),
    );

    expect([first.logs.length >= 3, second.logs.length >= 1]).toEqual([true, true]);
    expect(contextOf(first.logs)).toEqual(first.logs.map(() => ['deliver-request-1', true]));
    expect(contextOf(second.logs)).toEqual(second.logs.map(() => ['deliver-request-2', false]));
    const aboutAlerts = [...first.logs, ...second.logs].filter((line) => 'alertId' in line);
    expect(new Set(aboutAlerts.map((line) => line.alertId))).toEqual(new Set([delivered.id, retried.id, refused.id]));
    expect(aboutAlerts.map((line) => line.correlation_id)).toEqual(aboutAlerts.map((line) => line.alertId));
    expect(first.metrics).toHaveLength(1);
  });

  it('on the line that reports a failed invocation (a bad Squadcast URL)', async () => {
    const loaded = loadHandler(
      { ...ENV, SQUADCAST_WEBHOOK_URL: 'http://api.squadcast.com/v2/incidents/api/KEY' },
      () => require('../../handlers/deliver') as DeliverModule,
    );
    const failed = await invocation(() => loaded.module.handler(anSqsEvent([anSqsRecord()]), aContext('deliver', 'deliver-request-3')));
    expect(failed.logs).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'invocation failed',
        error: 'ConfigError',
        function_request_id: 'deliver-request-3',
        cold_start: true,
      }),
    ]);
  });
});

describe('status: every log line carries its request id', () => {
  it('on the status line', async () => {
    const loaded = loadHandler(LAMBDA_ENV, () => require('../../handlers/status') as StatusModule);
    loaded.dynamodbSend.mockImplementation(async () => ({ Items: [] }));
    loaded.sqsSend.mockImplementation(async () => ({ Attributes: { ApproximateNumberOfMessages: '0' } }));
    const first = await invocation(() => loaded.module.handler({}, aContext('status', 'status-request-1')));
    const second = await invocation(() => loaded.module.handler({}, aContext('status', 'status-request-2')));
    expect(first.logs.map((line) => line.message)).toEqual(['status read']);
    expect([...contextOf(first.logs), ...contextOf(second.logs)]).toEqual([
      ['status-request-1', true],
      ['status-request-2', false],
    ]);
  });
});

describe('testAlert: every log line carries its request id', () => {
  it('on the queued line (correlation_id = the test alert id) and on a refused event', async () => {
    const loaded = loadHandler(LAMBDA_ENV, () => require('../../handlers/test-alert') as TestAlertModule);
    sqsAccepts(loaded.sqsSend);
    let alertId = '';
    const first = await invocation(async () => {
      alertId = (await loaded.module.handler({}, aContext('testAlert', 'test-alert-request-1'))).alertId;
    });
    const second = await invocation(() => loaded.module.handler({ severity: 7 }, aContext('testAlert', 'test-alert-request-2')));
    expect(first.logs).toEqual([expect.objectContaining({ message: 'test alert queued', correlation_id: alertId })]);
    expect(second.logs).toEqual([expect.objectContaining({ message: 'invocation failed', error: 'InvalidTestAlertEvent' })]);
    expect([...contextOf(first.logs), ...contextOf(second.logs)]).toEqual([
      ['test-alert-request-1', true],
      ['test-alert-request-2', false],
    ]);
  });
});
