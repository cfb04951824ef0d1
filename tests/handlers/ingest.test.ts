import { gzipSync } from 'node:zlib';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { configErrorOf } from '../helpers/config-error';
import { aBatchBody, anAlert, anIngestEvent, aRawAlert, SENTINEL, TEST_WEBHOOK_TOKEN } from '../helpers/factories';
import { answerSendMessageBatch, BASE_LAMBDA_ENV, capturedEachTest, commandsOf, loadHandler } from '../helpers/load-handler';

type IngestModule = typeof import('../../handlers/ingest');

const ENV = { ...BASE_LAMBDA_ENV, WEBHOOK_TOKEN: TEST_WEBHOOK_TOKEN };
const load = (env: Record<string, string | undefined> = ENV) => loadHandler(env, () => require('../../handlers/ingest') as IngestModule);

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };
const bodyOf = (response: APIGatewayProxyResult): unknown => JSON.parse(response.body);

const output = capturedEachTest();

describe('ingest handler', () => {
  const loaded = load();
  const { handler } = loaded.module;
  beforeEach(() => {
    loaded.sqsSend.mockClear();
    answerSendMessageBatch(loaded.sqsSend);
  });

  it('answers 200 {accepted, degraded, rejected, duplicates} and queues each alert with SendMessageBatch', async () => {
    const degraded = aRawAlert({ severity: 'high' });
    const alerts = [anAlert(), anAlert(), degraded];
    const response = await handler(anIngestEvent({ body: aBatchBody([alerts[0], alerts[1], alerts[0], degraded, 'not an alert']) }));
    expect(response).toEqual({ statusCode: 200, headers: JSON_HEADERS, body: expect.any(String) });
    expect(bodyOf(response)).toEqual({ accepted: 3, degraded: 1, rejected: 1, duplicates: 1 });
    const sent = commandsOf(loaded.sqsSend);
    expect(sent.map((c) => c.name)).toEqual(['SendMessageBatchCommand', 'SendMessageBatchCommand']);
    const byQueue = (url: string) =>
      sent.map((c) => c.input as unknown as SendMessageBatchCommandInput).find((input) => input.QueueUrl === url)?.Entries ?? [];
    expect(byQueue(ENV.ALERTS_QUEUE_URL).map((e) => JSON.parse(e.MessageBody ?? '').alert.id)).toEqual(alerts.map((a) => a.id));
    expect(byQueue(ENV.DEAD_LETTER_QUEUE_URL).map((e) => JSON.parse(e.MessageBody ?? '').failure.problems)).toEqual([
      ['alerts[4]: expected object'],
    ]);
  });

  it('answers 200 with zero for {"alerts": []}, sending nothing', async () => {
    const response = await handler(anIngestEvent({ body: '{"alerts":[]}' }));
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({ accepted: 0, rejected: 0, duplicates: 0 });
    expect(loaded.sqsSend).not.toHaveBeenCalled();
  });

  it('accepts a base64-encoded body', async () => {
    const response = await handler(anIngestEvent({ body: Buffer.from(aBatchBody([anAlert()])).toString('base64'), isBase64Encoded: true }));
    expect(bodyOf(response)).toEqual({ accepted: 1, rejected: 0, duplicates: 0 });
  });

  it('answers identical 403s to a wrong token and to a wrong address, even one claiming a Threat Stack address in X-Forwarded-For', async () => {
    const byToken = await handler(anIngestEvent({ token: `${SENTINEL}-0123456789` }));
    const byAddress = await handler(anIngestEvent({ sourceIp: '203.0.113.9', headers: { 'X-Forwarded-For': '52.20.173.142' } }));
    expect(byToken).toEqual({ statusCode: 403, headers: JSON_HEADERS, body: '{"error":"forbidden"}' });
    expect(byAddress).toEqual(byToken);
    expect(loaded.sqsSend).not.toHaveBeenCalled();
    expect(output.text()).not.toContain(SENTINEL);
  });

  it('answers 400 with problems, without echoing the body', async () => {
    const response = await handler(anIngestEvent({ body: { alerts: SENTINEL } }));
    expect(response).toEqual({ statusCode: 400, headers: JSON_HEADERS, body: expect.any(String) });
    expect(bodyOf(response)).toEqual({
      error: 'body is not a Threat Stack alert batch or alert',
      problems: [
        'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    });
    expect(response.body).not.toContain(SENTINEL);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await handler(anIngestEvent({ body: `{${SENTINEL}` }));
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toEqual({ error: 'body is not valid JSON', problems: [] });
  });

  it('answers 413 for a body over 4 MiB', async () => {
    const response = await handler(anIngestEvent({ body: 'x'.repeat(4 * 1_048_576 + 1) }));
    expect(response.statusCode).toBe(413);
    expect(bodyOf(response)).toEqual({ error: 'body is larger than 4194304 bytes', limitBytes: 4_194_304 });
  });

  it("answers 415 to a gzip body, whatever the header name's case, and queues nothing", async () => {
    const body = gzipSync(Buffer.from(aBatchBody([anAlert()]))).toString('base64');
    for (const name of ['Content-Encoding', 'content-encoding']) {
      const response = await handler(anIngestEvent({ body, isBase64Encoded: true, headers: { [name]: 'gzip' } }));
      expect(response).toEqual({
        statusCode: 415,
        headers: { ...JSON_HEADERS, 'accept-encoding': 'identity' },
        body: '{"error":"Content-Encoding not supported; send the body uncompressed"}',
      });
    }
    expect(loaded.sqsSend).not.toHaveBeenCalled();
  });

  it.each<[string, Parameters<typeof anIngestEvent>[0], number, string]>([
    ['a wrong address', { sourceIp: '203.0.113.9' }, 403, 'WebhookRefusedSource'],
    ['a wrong token', { token: 'wrong-token-0123456789' }, 403, 'WebhookRefusedToken'],
    ['a gzip body', { headers: { 'Content-Encoding': 'gzip' } }, 415, 'WebhookRefusedEncoding'],
    ['a body over 4 MiB', { body: 'x'.repeat(4 * 1_048_576 + 1) }, 413, 'WebhookRefusedTooLarge'],
    ['a body that is not JSON', { body: '{' }, 400, 'WebhookRefusedNotJson'],
    ['JSON with no alert', { body: { alerts: 1 } }, 400, 'WebhookRefusedNoAlerts'],
  ])('publishes the refusal of %s as its own metric when the invocation ends', async (_name, options, status, metric) => {
    const response = await handler(anIngestEvent(options));
    expect(response.statusCode).toBe(status);
    const emf = output.lines().filter((line) => line._aws !== undefined);
    expect(emf).toEqual([expect.objectContaining({ [metric]: 1, service: 'threatstack-squadcast-relay', stage: 'unit' })]);
    const aws = emf[0]?._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> } | undefined;
    expect(aws?.CloudWatchMetrics.flatMap((m) => m.Metrics.map((entry) => entry.Name))).toEqual([metric]);
  });

  it('answers 503 with Retry-After when SQS refuses the alerts', async () => {
    answerSendMessageBatch(loaded.sqsSend, (url) => url === ENV.ALERTS_QUEUE_URL);
    const response = await handler(anIngestEvent({ body: aBatchBody([anAlert(), anAlert()]) }));
    expect(response).toEqual({ statusCode: 503, headers: { ...JSON_HEADERS, 'retry-after': '5' }, body: expect.any(String) });
    expect(bodyOf(response)).toEqual({ error: 'could not queue every alert; send the batch again', queued: 0, failed: 2 });
  });

  it('answers 503 when only the dead-letter queue refuses', async () => {
    answerSendMessageBatch(loaded.sqsSend, (url) => url === ENV.DEAD_LETTER_QUEUE_URL);
    const response = await handler(anIngestEvent({ body: aBatchBody([anAlert(), null]) }));
    expect(response.statusCode).toBe(503);
  });

  it('never writes the token to the logs', async () => {
    await handler(anIngestEvent());
    await handler(anIngestEvent({ token: 'wrong-token-0123456789' }));
    expect(output.lines().length).toBeGreaterThan(0);
    expect(output.text()).not.toContain(TEST_WEBHOOK_TOKEN);
  });
});

describe('ingest handler configuration', () => {
  it.each<[string, Record<string, string | undefined>, string]>([
    ['a missing queue URL', { ALERTS_QUEUE_URL: undefined }, 'ALERTS_QUEUE_URL'],
    ['a malformed allowlist', { ALLOWED_SOURCE_IPS: `10.0.0.1,${SENTINEL}` }, 'ALLOWED_SOURCE_IPS: entry 2'],
  ])('fails the cold start on %s with a ConfigError naming the key', (_name, env, named) => {
    const thrown = configErrorOf(() => load({ ...ENV, ...env }));
    expect(thrown.message).toContain(named);
    expect(thrown.message).not.toContain(SENTINEL);
  });

  it('answers 503 (Threat Stack retries) when the token fails validation, and logs the key, never the value', async () => {
    const { module, sqsSend } = load({ ...ENV, WEBHOOK_TOKEN: `short${SENTINEL.slice(0, 3)}` });
    const response = await module.handler(anIngestEvent({ token: `short${SENTINEL.slice(0, 3)}` }));
    expect(response.statusCode).toBe(503);
    expect(sqsSend).not.toHaveBeenCalled();
    const logged = output.lines().find((line) => line.message === 'ingest failed unexpectedly');
    expect(logged).toEqual(
      expect.objectContaining({
        error: 'ConfigError',
        detail: expect.stringContaining('WEBHOOK_TOKEN: must be 16 to 256 URL-safe characters'),
      }),
    );
    expect(output.text()).not.toContain(`short${SENTINEL.slice(0, 3)}`);
  });

  it('reads the token from WEBHOOK_TOKEN_PARAMETER through SSM, decrypted, once per max age (tests/handlers/secret-rotation.test.ts: after it)', async () => {
    const { module, ssmSend, sqsSend } = load({ ...ENV, WEBHOOK_TOKEN: undefined, WEBHOOK_TOKEN_PARAMETER: '/relay/unit/webhook-token' });
    ssmSend.mockImplementation(async () => ({ Parameter: { Value: 'token-from-ssm-0123456789' } }));
    answerSendMessageBatch(sqsSend);
    const accepted = await module.handler(anIngestEvent({ token: 'token-from-ssm-0123456789' }));
    const refused = await module.handler(anIngestEvent({ token: TEST_WEBHOOK_TOKEN }));
    expect([accepted.statusCode, refused.statusCode]).toEqual([200, 403]);
    expect(commandsOf(ssmSend)).toEqual([
      { name: 'GetParameterCommand', input: { Name: '/relay/unit/webhook-token', WithDecryption: true } },
    ]);
  });

  it('answers 503 while SSM is failing, and recovers once it answers', async () => {
    const { module, ssmSend, sqsSend } = load({ ...ENV, WEBHOOK_TOKEN: undefined, WEBHOOK_TOKEN_PARAMETER: '/relay/unit/webhook-token' });
    answerSendMessageBatch(sqsSend);
    ssmSend.mockImplementationOnce(async () => Promise.reject(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })));
    ssmSend.mockImplementation(async () => ({ Parameter: { Value: TEST_WEBHOOK_TOKEN } }));
    expect((await module.handler(anIngestEvent())).statusCode).toBe(503);
    expect((await module.handler(anIngestEvent())).statusCode).toBe(200);
  });
});
