import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@aws-sdk/client-sqs';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { webhookEvent as apiGatewayWebhookEvent } from '../../local/api-gateway-event';
import type { Finding } from './checks';
import { checkAlarmMetrics, checkCalls } from './checks';
import type { Container } from './containers';
import { startContainer, unzipBundle } from './containers';
import type { Datapoint } from './emf';
import { parseEmf } from './emf';
import { startMoto } from './moto';
import type { PackagedTemplate } from './package';
import { PROJECT_ROOT, packageService, readTemplate } from './package';
import type { AwsCall, RecordingProxy } from './recording-proxy';
import { startRecordingProxy } from './recording-proxy';
import type { RehearsedStack } from './stack';
import { createStack, motoClientConfig } from './stack';

/**
 * `npm run rehearse`: a deploy rehearsal without an AWS account. The service is packaged for the
 * `rehearsal` stage, linted with cfn-lint, created in moto's CloudFormation on 127.0.0.1 as
 * `serverless deploy` would create it, and its PACKAGED bundles are run with the environment the
 * stack gives each function, against the stack's queues, table and parameters and a fake Squadcast
 * on loopback. Every AWS call they make is checked against the function's role, and every alarm's
 * metric against what they print.
 */
export const REHEARSAL_STAGE = 'rehearsal';

export interface RehearsalReport {
  readonly sections: ReadonlyArray<{ readonly title: string; readonly findings: readonly Finding[] }>;
  /** Everything the checks read, for a test that checks a changed template against the same run. */
  readonly calls: readonly AwsCall[];
  readonly printed: readonly Datapoint[];
  readonly stack: RehearsedStack;
  readonly template: PackagedTemplate;
  readonly ok: boolean;
}

export interface RehearsalOptions {
  /** A package already built for the rehearsal stage; otherwise one is built in a temporary directory. */
  readonly packageDir?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

const FUNCTIONS = {
  ingest: 'IngestLambdaFunction',
  deliver: 'DeliverLambdaFunction',
  status: 'StatusLambdaFunction',
  testAlert: 'TestAlertLambdaFunction',
};
type FunctionName = keyof typeof FUNCTIONS;
/** The event source mapping receives and deletes with deliver's role. */
const MAPPING = 'event source mapping';
const THREAT_STACK_ADDRESS = '52.20.173.142';
const OTHER_ADDRESS = '203.0.113.9';
const SQUADCAST_KEY = `REHEARSAL-${randomBytes(6).toString('hex')}`;

/** A fake Squadcast Incident Webhook on loopback: 400 for an id with `-400`, 503 with `-503`, else 202. */
const startFakeSquadcast = async (): Promise<{ url: string; posts: string[]; close(): Promise<void> }> => {
  const posts: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const id = String((JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { event_id?: unknown }).event_id);
      posts.push(id);
      const status = !request.url?.endsWith(SQUADCAST_KEY) ? 404 : id.includes('-400') ? 400 : id.includes('-503') ? 503 : 202;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/incidents/api/${SQUADCAST_KEY}`,
    posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
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

/** The REST API (v1) event API Gateway builds, from `sourceIp`. */
const webhookEvent = (token: string, body: string, sourceIp = THREAT_STACK_ADDRESS, headers: Record<string, string> = {}) =>
  apiGatewayWebhookEvent({
    token,
    body,
    sourceIp,
    headers: { 'Content-Type': 'application/json', ...headers },
    stage: REHEARSAL_STAGE,
    requestId: 'rehearsal',
  });

const readEvent = (file: string): unknown => JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', file), 'utf8'));

const finding = (subject: string, ok: boolean, detail: string): Finding => ({ subject, ok, detail });

/** Runs cfn-lint with the project's settings: every finding is a failure. */
const lint = (templatePath: string): Finding => {
  const run = spawnSync('cfn-lint', ['--config-file', join(PROJECT_ROOT, '.cfnlintrc'), '--', templatePath], { encoding: 'utf8' });
  if (run.error !== undefined) return finding('cfn-lint', false, 'not installed: pip install cfn-lint==1.51.0');
  return finding('cfn-lint', run.status === 0, run.status === 0 ? 'no finding' : `${run.stdout}${run.stderr}`.trim());
};

export const rehearse = async (options: RehearsalOptions = {}): Promise<RehearsalReport> => {
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'relay-rehearsal-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(scratch, { recursive: true, force: true })];
  try {
    const packageDir = options.packageDir ?? join(scratch, 'package');
    if (options.packageDir === undefined) {
      log(`packaging the ${REHEARSAL_STAGE} stage`);
      packageService(packageDir, REHEARSAL_STAGE);
    }
    const template = readTemplate(packageDir, 'update');
    const lintFinding = lint(join(packageDir, 'cloudformation-template-update-stack.json'));

    log('starting moto_server on 127.0.0.1');
    const moto = await startMoto();
    cleanups.push(() => moto.stop());
    log(`creating the stack in moto ${moto.version}`);
    const stack = await createStack(moto.endpoint, packageDir, `threatstack-squadcast-relay-${REHEARSAL_STAGE}`);
    const config = motoClientConfig(moto.endpoint);
    const ssm = new SSMClient(config);
    const token = `rehearsal-${randomBytes(12).toString('hex')}`;
    const squadcast = await startFakeSquadcast();
    cleanups.push(() => squadcast.close());
    const prefix = `/threatstack-squadcast-relay/${REHEARSAL_STAGE}`;
    await ssm.send(new PutParameterCommand({ Name: `${prefix}/webhook-token`, Type: 'SecureString', Value: token }));
    await ssm.send(new PutParameterCommand({ Name: `${prefix}/squadcast-webhook-url`, Type: 'SecureString', Value: squadcast.url }));

    // One recording proxy per caller: each call is charged to the role that makes it.
    const calls: AwsCall[] = [];
    const proxies: Record<string, RecordingProxy> = {};
    for (const caller of [...Object.keys(FUNCTIONS), MAPPING]) {
      proxies[caller] = await startRecordingProxy(caller, moto.endpoint, (call) => calls.push(call));
      cleanups.push(() => proxies[caller]?.close());
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
      const container = await startContainer(join(dir, 'handlers', `${name === 'testAlert' ? 'test-alert' : name}.js`), name, {
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
      cleanups.push(() => container.stop());
      return container;
    };

    const scenarios: Finding[] = [];
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
      scenarios.push(finding(subject, ok, error ? `threw ${error.name}: ${error.message}` : `${result?.statusCode} ${result?.body}`));
    };

    log('running the bundles');
    const ingest = await start('ingest');
    const batch = [alert('rehearsal-ok-1'), alert('rehearsal-503-1'), alert('rehearsal-400-1')];
    await expectStatus(
      ingest,
      'ingest: a batch from a Threat Stack address',
      webhookEvent(token, JSON.stringify({ alerts: batch })),
      200,
      (j) => j.accepted === 3,
    );
    const sample = readEvent('sample-batch.json') as { alerts: Array<Record<string, unknown>> };
    const samples = sample.alerts.map((a, i) => ({ ...a, id: `rehearsal-sample-${i}` }));
    await expectStatus(
      ingest,
      'ingest: events/sample-batch.json',
      webhookEvent(token, JSON.stringify({ alerts: samples })),
      200,
      (j) => j.accepted === samples.length,
    );
    await expectStatus(
      ingest,
      'ingest: another address is refused',
      webhookEvent(token, JSON.stringify({ alerts: [alert('x')] }), OTHER_ADDRESS),
      403,
    );
    await expectStatus(
      ingest,
      'ingest: a wrong token is refused',
      webhookEvent(`${token}-wrong`, JSON.stringify({ alerts: [alert('x')] })),
      403,
    );
    await expectStatus(
      ingest,
      'ingest: a malformed alert pages degraded; a non-object is dead-lettered',
      webhookEvent(token, JSON.stringify({ alerts: [{ id: 'rehearsal-malformed-1', severity: 'urgent' }, 'not an alert'] })),
      200,
      (j) => j.degraded === 1 && j.rejected === 1,
    );
    await expectStatus(ingest, 'ingest: a body that is not JSON', webhookEvent(token, 'not json'), 400);
    await expectStatus(ingest, 'ingest: JSON with no alert', webhookEvent(token, '{"note":"x"}'), 400);
    await expectStatus(
      ingest,
      'ingest: a compressed body',
      webhookEvent(token, '{}', THREAT_STACK_ADDRESS, { 'Content-Encoding': 'gzip' }),
      415,
    );
    await expectStatus(ingest, 'ingest: a body over 4 MiB', webhookEvent(token, `{"alerts":[${'{},'.repeat(1_500_000)}{}]}`), 413);
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
      scenarios.push(finding(`testAlert: events/${file}`, result?.sent === true, error ? `threw ${error.name}` : JSON.stringify(result)));
    }

    // deliver, driven as the event source mapping drives it, through deliver's role.
    const deliver = await start('deliver');
    const mapping = new SQSClient({ ...config, endpoint: proxies[MAPPING]?.url ?? '' });
    // The rehearsal's own look at the queues is not a call of the relay's: straight to moto.
    const observer = new SQSClient(config);
    const onMoto = (url: string): string => `${moto.endpoint}${new URL(url).pathname}`;
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
    const posted = (id: string): number => squadcast.posts.filter((p) => p === id).length;
    scenarios.push(finding('deliver: Squadcast 2xx', posted('rehearsal-ok-1') === 1, `POSTed ${posted('rehearsal-ok-1')} time(s)`));
    scenarios.push(
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
    scenarios.push(
      finding(
        'deliver: Squadcast 400 is dead-lettered at once',
        lettersAfterDelivery >= 2,
        `${lettersAfterDelivery} dead letters (the 400 and ingest's non-object)`,
      ),
    );
    await ingest.invoke(webhookEvent(token, JSON.stringify({ alerts: [batch[0]] })));
    await drain();
    scenarios.push(
      finding('deliver: the same alert again is not sent twice', posted('rehearsal-ok-1') === 1, 'logged as already delivered'),
    );
    const fromConsole = await deliver.invoke<{ batchItemFailures: unknown[] }>(readEvent('deliver.json'));
    scenarios.push(
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
    scenarios.push(
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

    // Missing SSM parameters: a new container (an empty cache) of each function meets them gone.
    await ssm.send(new DeleteParameterCommand({ Name: `${prefix}/squadcast-webhook-url` }));
    await ssm.send(new DeleteParameterCommand({ Name: `${prefix}/webhook-token` }));
    const coldDeliver = await start('deliver');
    const withoutUrl = await coldDeliver.invoke(readEvent('deliver.json'));
    scenarios.push(
      finding('deliver: the Squadcast URL parameter is gone', withoutUrl.error !== undefined, withoutUrl.error?.message ?? 'did not fail'),
    );
    const coldIngest = await start('ingest');
    await expectStatus(
      coldIngest,
      'ingest: the webhook token parameter is gone (a resend is wanted)',
      webhookEvent(token, JSON.stringify({ alerts: [alert('x')] })),
      503,
    );

    const printed = containers.flatMap((container) =>
      container
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{"_aws"'))
        .flatMap((line) => parseEmf(line)),
    );
    const callers = { ...Object.fromEntries(Object.entries(FUNCTIONS)), [MAPPING]: FUNCTIONS.deliver };
    const iam = checkCalls(template, stack.facts, calls, callers);
    const metrics = checkAlarmMetrics(template, stack.facts, printed);
    const stackFindings = [
      lintFinding,
      finding(
        'stack',
        true,
        `${Object.keys(stack.facts.resources).length} resources created in moto's CloudFormation and through the APIs`,
      ),
      ...stack.notes.map((note) => finding(`${note.logicalId} (${note.type})`, true, `${note.how}: ${note.detail}`)),
      finding('not exercised', true, 'logs:CreateLogStream / logs:PutLogEvents are used by the Lambda runtime, not the bundles'),
    ];
    const sections = [
      { title: 'Template and stack', findings: stackFindings },
      { title: 'Packaged bundles, run with the environment the stack gives them', findings: scenarios },
      { title: `Every AWS call (${calls.length}) against its function's role`, findings: iam },
      { title: "Every alarm's metric", findings: metrics },
    ];
    return { sections, calls, printed, stack, template, ok: sections.every((s) => s.findings.every((f) => f.ok)) };
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  }
};

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

/** The report as a table: one line a check. */
export const formatReport = (report: RehearsalReport): string[] =>
  report.sections.flatMap(({ title, findings }) => [
    '',
    title,
    ...findings.map((f) => `  ${f.ok ? 'ok  ' : 'FAIL'}  ${f.subject.padEnd(58)} ${f.detail.replace(/\s+/g, ' ').slice(0, 160)}`),
  ]);
