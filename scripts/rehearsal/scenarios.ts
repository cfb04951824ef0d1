import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Message } from '@aws-sdk/client-sqs';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Responder } from '../../devkit/fake-squadcast';
import { startFakeSquadcast } from '../../devkit/fake-squadcast';
import { webhookEvent as apiGatewayWebhookEvent } from '../../local/api-gateway-event';
import type { Finding } from './checks';
import type { Container } from './containers';
import { startContainer, unzipBundle } from './containers';
import type { Datapoint } from './emf';
import { parseEmf } from './emf';
import { PROJECT_ROOT } from './package';
import type { AwsCall, RecordingProxy } from './recording-proxy';
import { startRecordingProxy } from './recording-proxy';
import type { RehearsedStack } from './stack';
import { motoClientConfig } from './stack';

/**
 * The packaged bundles run against the stack `serverless deploy` made in moto, each with the environment
 * the stack gave its function, through a recording proxy per caller (every AWS call charged to the role
 * that makes it), against a fake Squadcast on loopback: what each function answers, and what it calls.
 */
export const FUNCTIONS = {
  ingest: 'IngestLambdaFunction',
  deliver: 'DeliverLambdaFunction',
  status: 'StatusLambdaFunction',
  testAlert: 'TestAlertLambdaFunction',
  deadLetterWatch: 'DeadLetterWatchLambdaFunction',
};
/** Each function's handler file (serverless.yml `handler`). */
const HANDLER_FILES: Readonly<Record<FunctionName, string>> = {
  ingest: 'ingest',
  deliver: 'deliver',
  status: 'status',
  testAlert: 'test-alert',
  deadLetterWatch: 'dead-letter-watch',
};
type FunctionName = keyof typeof FUNCTIONS;
/** The event source mapping receives and deletes with deliver's role. */
export const MAPPING = 'event source mapping';
const THREAT_STACK_ADDRESS = '52.20.173.142';
const OTHER_ADDRESS = '203.0.113.9';
const SQUADCAST_KEY = `REHEARSAL-${randomBytes(6).toString('hex')}`;

export interface ScenarioRun {
  readonly findings: Finding[];
  readonly calls: AwsCall[];
  readonly printed: Datapoint[];
}

/** The fake Squadcast's script: 400 for an id with `-400`, 503 with `-503`, 404 for another key, else 202. */
const rehearsalSquadcast: Responder = (request) => {
  const id = request.eventId ?? '';
  return { status: !request.path.endsWith(SQUADCAST_KEY) ? 404 : id.includes('-400') ? 400 : id.includes('-503') ? 503 : 202 };
};

const alert = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Rehearsal alert ${id}`,
  created_at: Date.now(),
  severity: 2,
  organization_id: 'rehearsal',
  server_or_region: 'rehearsal-host',
  source: 'Host',
  ...extra,
});

const readEvent = (file: string): unknown => JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', file), 'utf8'));
const finding = (subject: string, ok: boolean, detail: string): Finding => ({ subject, ok, detail });

/** The SQS event Lambda's event source mapping builds from received messages. */
const sqsEvent = (messages: readonly Message[], stack: RehearsedStack) => ({
  Records: messages.map((m) => ({
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body,
    attributes: m.Attributes ?? {},
    messageAttributes: {},
    md5OfBody: m.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${stack.facts.region}:${stack.facts.account}:${(stack.outputs.AlertsQueueUrl ?? '').split('/').pop()}`,
    awsRegion: stack.facts.region,
  })),
});

export interface ScenarioOptions {
  readonly moto: string;
  readonly stack: RehearsedStack;
  readonly packageDir: string;
  readonly stage: string;
  readonly scratch: string;
  /** Where a started process or server is stopped when the rehearsal ends. */
  readonly onCleanup: (cleanup: () => Promise<void> | void) => void;
}

export const runScenarios = async (options: ScenarioOptions): Promise<ScenarioRun> => {
  const { moto, stack, packageDir, stage, scratch, onCleanup } = options;
  const config = motoClientConfig(moto);
  const ssm = new SSMClient(config);
  const token = `rehearsal-${randomBytes(12).toString('hex')}`;
  const squadcast = await startFakeSquadcast({ key: SQUADCAST_KEY, respond: rehearsalSquadcast });
  onCleanup(() => squadcast.stop());
  const prefix = `/threatstack-squadcast-relay/${stage}`;
  await ssm.send(new PutParameterCommand({ Name: `${prefix}/webhook-token`, Type: 'SecureString', Value: token, Overwrite: true }));
  await ssm.send(
    new PutParameterCommand({ Name: `${prefix}/squadcast-webhook-url`, Type: 'SecureString', Value: squadcast.url, Overwrite: true }),
  );

  const calls: AwsCall[] = [];
  const proxies: Record<string, RecordingProxy> = {};
  for (const caller of [...Object.keys(FUNCTIONS), MAPPING]) {
    proxies[caller] = await startRecordingProxy(caller, moto, (call) => calls.push(call));
    onCleanup(() => proxies[caller]?.close());
  }
  const containers: Container[] = [];
  const start = async (name: FunctionName): Promise<Container> => {
    const dir = join(scratch, 'bundles', `${name}-${containers.length}`);
    unzipBundle(join(packageDir, `${name}.zip`), dir);
    const proxy = proxies[name]?.url ?? '';
    // AWS's SQS client sends a request to its QueueUrl's host, whatever endpoint the environment
    // names: the queue URLs keep their path and point at the recording proxy (nothing leaves 127.0.0.1).
    const environment = Object.fromEntries(
      Object.entries(await stack.environmentOf(FUNCTIONS[name])).map(([key, value]) => [
        key,
        /^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com\//.test(value) ? `${proxy}${new URL(value).pathname}` : value,
      ]),
    );
    const container = await startContainer(join(dir, 'handlers', `${HANDLER_FILES[name]}.js`), name, {
      PATH: process.env.PATH,
      ...environment,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'rehearsal',
      AWS_SECRET_ACCESS_KEY: 'rehearsal',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_SQS: proxy,
      AWS_ENDPOINT_URL_DYNAMODB: proxy,
      AWS_ENDPOINT_URL_SSM: proxy,
      AWS_LAMBDA_FUNCTION_NAME: stack.facts.resources[FUNCTIONS[name]]?.physicalId ?? name,
    });
    containers.push(container);
    onCleanup(() => container.stop());
    return container;
  };

  const findings: Finding[] = [];
  const webhookEvent = (body: string, sourceIp = THREAT_STACK_ADDRESS, headers: Record<string, string> = {}, withToken = token) =>
    apiGatewayWebhookEvent({
      token: withToken,
      body,
      sourceIp,
      headers: { 'Content-Type': 'application/json', ...headers },
      stage,
      requestId: 'rehearsal',
    });
  const expectStatus = async (
    container: Container,
    subject: string,
    event: unknown,
    status: number,
    body?: (json: Record<string, unknown>) => boolean,
  ) => {
    const { result, error } = await container.invoke<{ statusCode: number; body: string }>(event);
    const json = JSON.parse(result?.body ?? '{}') as Record<string, unknown>;
    const ok = error === undefined && result?.statusCode === status && (body === undefined || body(json));
    findings.push(finding(subject, ok, error ? `threw ${error.name}: ${error.message}` : `${result?.statusCode} ${result?.body}`));
  };

  const ingest = await start('ingest');
  const batch = [alert('rehearsal-ok-1'), alert('rehearsal-503-1'), alert('rehearsal-400-1')];
  await expectStatus(
    ingest,
    'ingest: a batch from a Threat Stack address',
    webhookEvent(JSON.stringify({ alerts: batch })),
    200,
    (j) => j.accepted === 3,
  );
  const sample = readEvent('sample-batch.json') as { alerts: Array<Record<string, unknown>> };
  const samples = sample.alerts.map((a, i) => ({ ...a, id: `rehearsal-sample-${i}` }));
  await expectStatus(
    ingest,
    'ingest: events/sample-batch.json',
    webhookEvent(JSON.stringify({ alerts: samples })),
    200,
    (j) => j.accepted === samples.length,
  );
  await expectStatus(
    ingest,
    'ingest: another address is refused',
    webhookEvent(JSON.stringify({ alerts: [alert('x')] }), OTHER_ADDRESS),
    403,
  );
  await expectStatus(
    ingest,
    'ingest: a wrong token is refused',
    webhookEvent(JSON.stringify({ alerts: [alert('x')] }), THREAT_STACK_ADDRESS, {}, `${token}-wrong`),
    403,
  );
  await expectStatus(
    ingest,
    'ingest: a malformed alert pages degraded; a non-object is dead-lettered',
    webhookEvent(JSON.stringify({ alerts: [{ id: 'rehearsal-malformed-1', severity: 'urgent' }, 'not an alert'] })),
    200,
    (j) => j.degraded === 1 && j.rejected === 1,
  );
  await expectStatus(ingest, 'ingest: a body that is not JSON', webhookEvent('not json'), 400);
  await expectStatus(ingest, 'ingest: JSON with no alert', webhookEvent('{"note":"x"}'), 400);
  await expectStatus(ingest, 'ingest: a compressed body', webhookEvent('{}', THREAT_STACK_ADDRESS, { 'Content-Encoding': 'gzip' }), 415);
  await expectStatus(ingest, 'ingest: a body over 4 MiB', webhookEvent(`{"alerts":[${'{},'.repeat(1_500_000)}{}]}`), 413);
  const consoleEvent = readEvent('ingest.json');
  await expectStatus(ingest, 'ingest: events/ingest.json as it stands (placeholder token)', consoleEvent, 403);
  await expectStatus(
    ingest,
    "ingest: events/ingest.json with the stage's token",
    JSON.parse(JSON.stringify(consoleEvent).replaceAll('REPLACE-WITH-THE-WEBHOOK-TOKEN', token)),
    200,
    (j) => j.accepted === 1,
  );

  const testAlert = await start('testAlert');
  for (const file of ['test-alert.json', 'test-alert-high.json']) {
    const { result, error } = await testAlert.invoke<{ sent?: boolean; severity?: number }>(readEvent(file));
    findings.push(finding(`testAlert: events/${file}`, result?.sent === true, error ? `threw ${error.name}` : JSON.stringify(result)));
  }

  // deliver, driven as the event source mapping drives it, through deliver's role.
  const deliver = await start('deliver');
  const mapping = new SQSClient({ ...config, endpoint: proxies[MAPPING]?.url ?? '' });
  // The rehearsal's own look at the queues is not a call of the relay's: straight to moto.
  const observer = new SQSClient(config);
  const onMoto = (url: string): string => `${moto}${new URL(url).pathname}`;
  const onMapping = (url: string): string => `${proxies[MAPPING]?.url ?? ''}${new URL(url).pathname}`;
  const alertsQueue = onMapping(stack.outputs.AlertsQueueUrl ?? '');
  const deadLetterQueue = onMoto(stack.outputs.DeadLetterQueueUrl ?? '');
  const drain = async (): Promise<{ invocations: number; failed: number }> => {
    let invocations = 0;
    let failed = 0;
    for (;;) {
      const { Messages = [] } = await mapping.send(
        new ReceiveMessageCommand({
          QueueUrl: alertsQueue,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) return { invocations, failed };
      invocations += 1;
      const { result } = await deliver.invoke<{ batchItemFailures: Array<{ itemIdentifier: string }> }>(sqsEvent(Messages, stack));
      const failures = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      failed += failures.size;
      const done = Messages.filter((m) => !failures.has(m.MessageId ?? ''));
      if (done.length > 0)
        await mapping.send(
          new DeleteMessageBatchCommand({
            QueueUrl: alertsQueue,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
    }
  };
  const drained = await drain();
  const posted = (id: string): number => squadcast.requests.filter((r) => r.eventId === id).length;
  findings.push(finding('deliver: Squadcast 2xx', posted('rehearsal-ok-1') === 1, `POSTed ${posted('rehearsal-ok-1')} time(s)`));
  findings.push(
    finding(
      'deliver: Squadcast 503 is put back to retry',
      posted('rehearsal-503-1') === 1 && drained.failed >= 1,
      `${drained.failed} record(s) in batchItemFailures`,
    ),
  );
  const deadLetters = async (): Promise<number> =>
    Number(
      (await observer.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueue, AttributeNames: ['ApproximateNumberOfMessages'] })))
        .Attributes?.ApproximateNumberOfMessages ?? 0,
    );
  const lettersAfterDelivery = await deadLetters();
  findings.push(
    finding(
      'deliver: Squadcast 400 is dead-lettered at once',
      lettersAfterDelivery >= 2,
      `${lettersAfterDelivery} dead letters (the 400 and ingest's non-object)`,
    ),
  );
  await ingest.invoke(webhookEvent(JSON.stringify({ alerts: [batch[0]] })));
  await drain();
  findings.push(finding('deliver: the same alert again is not sent twice', posted('rehearsal-ok-1') === 1, 'logged as already delivered'));
  const fromConsole = await deliver.invoke<{ batchItemFailures: unknown[] }>(readEvent('deliver.json'));
  findings.push(
    finding(
      'deliver: events/deliver.json',
      Array.isArray(fromConsole.result?.batchItemFailures),
      JSON.stringify(fromConsole.result ?? fromConsole.error),
    ),
  );

  const status = await start('status');
  const answer = await status.invoke<{ active?: boolean; incidentsLast30Days?: number; queue?: { deadLetter?: number } }>(
    readEvent('status.json'),
  );
  findings.push(
    finding(
      'status: events/status.json',
      answer.result?.active === true && (answer.result.incidentsLast30Days ?? 0) >= 1,
      JSON.stringify({
        active: answer.result?.active,
        incidentsLast30Days: answer.result?.incidentsLast30Days,
        queue: answer.result?.queue,
      }),
    ),
  );
  // One alert's record, as test-alert and smoke ask for it: the status role's read of one ledger item.
  const asked = await status.invoke<{ alert?: { id?: string; state?: string } }>({ alertId: 'rehearsal-sample-0' });
  findings.push(
    finding(
      'status: {"alertId": ...} reads that alert\'s record',
      asked.result?.alert?.state === 'delivered',
      JSON.stringify(asked.result?.alert ?? asked.error),
    ),
  );

  const watch = await start('deadLetterWatch');
  const watched = await watch.invoke<{ deadLetters?: number; oldestExpiresInHours?: number }>(readEvent('dead-letter-watch.json'));
  findings.push(
    finding(
      'deadLetterWatch: events/dead-letter-watch.json',
      (watched.result?.deadLetters ?? 0) >= 2 && (watched.result?.oldestExpiresInHours ?? 0) > 300,
      JSON.stringify(watched.result ?? watched.error),
    ),
  );
  const lettersAfterWatch = await deadLetters();
  findings.push(
    finding(
      'deadLetterWatch: every dead letter is visible again after the look',
      lettersAfterWatch === lettersAfterDelivery,
      `${lettersAfterWatch} visible`,
    ),
  );

  // Missing SSM parameters: a new container (an empty cache) of each function meets them gone.
  await ssm.send(new DeleteParameterCommand({ Name: `${prefix}/squadcast-webhook-url` }));
  await ssm.send(new DeleteParameterCommand({ Name: `${prefix}/webhook-token` }));
  const coldDeliver = await start('deliver');
  const withoutUrl = await coldDeliver.invoke(readEvent('deliver.json'));
  findings.push(
    finding('deliver: the Squadcast URL parameter is gone', withoutUrl.error !== undefined, withoutUrl.error?.message ?? 'did not fail'),
  );
  const coldIngest = await start('ingest');
  await expectStatus(
    coldIngest,
    'ingest: the webhook token parameter is gone (a resend is wanted)',
    webhookEvent(JSON.stringify({ alerts: [alert('x')] })),
    503,
  );
  for (const client of [ssm, mapping, observer]) client.destroy();

  const printed = containers.flatMap((container) =>
    container
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{"_aws"'))
      .flatMap((line) => parseEmf(line)),
  );
  return { findings, calls, printed };
};
