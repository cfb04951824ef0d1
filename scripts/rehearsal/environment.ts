import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { FakeSquadcast, Responder } from '../../devkit/fake-squadcast';
import { startFakeSquadcast } from '../../devkit/fake-squadcast';
import { webhookEvent as apiGatewayWebhookEvent } from '../../local/api-gateway-event';
import type { Finding } from './checks';
import type { Container } from './containers';
import { startContainer, unzipBundle } from './containers';
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
export type FunctionName = keyof typeof FUNCTIONS;
/** The event source mapping receives and deletes with deliver's role. */
export const MAPPING = 'event source mapping';
export const THREAT_STACK_ADDRESS = '52.20.173.142';
export const OTHER_ADDRESS = '203.0.113.9';
const SQUADCAST_KEY = `REHEARSAL-${randomBytes(6).toString('hex')}`;

/** The fake Squadcast's script: 400 for an id with `-400`, 503 with `-503`, 404 for another key, else 202. */
const rehearsalSquadcast: Responder = (request) => {
  const id = request.eventId ?? '';
  return { status: !request.path.endsWith(SQUADCAST_KEY) ? 404 : id.includes('-400') ? 400 : id.includes('-503') ? 503 : 202 };
};

export const alert = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Rehearsal alert ${id}`,
  created_at: Date.now(),
  severity: 2,
  organization_id: 'rehearsal',
  server_or_region: 'rehearsal-host',
  source: 'Host',
  ...extra,
});

export const readEvent = (file: string): unknown => JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', file), 'utf8'));
export const finding = (subject: string, ok: boolean, detail: string): Finding => ({ subject, ok, detail });

export interface ScenarioOptions {
  readonly moto: string;
  readonly stack: RehearsedStack;
  readonly packageDir: string;
  readonly stage: string;
  readonly scratch: string;
  /** Where a started process or server is stopped when the rehearsal ends. */
  readonly onCleanup: (cleanup: () => Promise<void> | void) => void;
}

/** What every scenario group works in: the stage's secrets, the fake Squadcast, a recording proxy per caller, and a way to start a function. */
export interface RehearsalEnvironment {
  readonly options: ScenarioOptions;
  readonly token: string;
  readonly squadcast: FakeSquadcast;
  readonly ssm: SSMClient;
  /** `/threatstack-squadcast-relay/<stage>`, the stage's parameters. */
  readonly prefix: string;
  readonly proxies: Readonly<Record<string, RecordingProxy>>;
  readonly calls: AwsCall[];
  readonly containers: Container[];
  readonly findings: Finding[];
  /** A fresh container of the function, from its bundle, with the environment the stack gave it. */
  start(name: FunctionName): Promise<Container>;
  /** A webhook call as API Gateway hands it to ingest. */
  webhookEvent(body: string, sourceIp?: string, headers?: Record<string, string>, withToken?: string): APIGatewayProxyEvent;
  /** Invokes and records whether the answer has `status` (and a body `body` accepts). */
  expectStatus(
    container: Container,
    subject: string,
    event: unknown,
    status: number,
    body?: (json: Record<string, unknown>) => boolean,
  ): Promise<void>;
}

export const rehearsalEnvironment = async (options: ScenarioOptions): Promise<RehearsalEnvironment> => {
  const { moto, stack, packageDir, stage, scratch, onCleanup } = options;
  const ssm = new SSMClient(motoClientConfig(moto));
  onCleanup(() => ssm.destroy());
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
  const findings: Finding[] = [];
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
  const webhookEvent = (body: string, sourceIp = THREAT_STACK_ADDRESS, headers: Record<string, string> = {}, withToken = token) =>
    apiGatewayWebhookEvent({
      token: withToken,
      body,
      sourceIp,
      headers: { 'Content-Type': 'application/json', ...headers },
      stage,
      requestId: 'rehearsal',
    });
  const expectStatus: RehearsalEnvironment['expectStatus'] = async (container, subject, event, status, body) => {
    const { result, error } = await container.invoke<{ statusCode: number; body: string }>(event);
    const json = JSON.parse(result?.body ?? '{}') as Record<string, unknown>;
    const ok = error === undefined && result?.statusCode === status && (body === undefined || body(json));
    findings.push(finding(subject, ok, error ? `threw ${error.name}: ${error.message}` : `${result?.statusCode} ${result?.body}`));
  };
  return { options, token, squadcast, ssm, prefix, proxies, calls, containers, findings, start, webhookEvent, expectStatus };
};
