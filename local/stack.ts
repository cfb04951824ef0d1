import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Message } from '@aws-sdk/client-sqs';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { escapedId, plainText } from '../lib/common/text';
import { readDeliverConfig } from '../lib/delivery/deliver-config';
import { THREAT_STACK_SOURCE_IPS } from '../lib/ingest/source-allowlist';
import { createDynamoDbLedgerReader } from '../lib/ledger/dynamodb-ledger-reader';
import type { LedgerReader } from '../lib/ledger/ledger';
import type { QueueDepths } from '../lib/queue/message-queue';
import { queuedAlertId } from '../lib/queue/messages';
import { createSqsDepthReader } from '../lib/queue/sqs-queue';
import { createDeliverRuntime } from '../lib/runtime/deliver-runtime';
import { createIngestRuntime } from '../lib/runtime/ingest-runtime';
import type { RelayStatus } from '../lib/status/relay-status';
import type { CredentialsFile } from './credentials-file';
import { writeCredentialsFile } from './credentials-file';
import type { DataDir } from './data-dir';
import type { Emulators } from './emulators';
import { startEmulators } from './emulators';
import { withInjectedFaults } from './fault-injection';
import type { LocalHttpServer } from './http-server';
import { startHttpServer } from './http-server';
import type { LambdaHandler } from './lambda-context';
import { localContext } from './lambda-context';
import { createLocalInbox } from './local-inbox';
import { startPoller } from './poller';
import { provision } from './provision';
import { LOCAL_SETTING_DEFAULTS, readLocalSettings } from './settings';

/** Local defaults; every one can be overridden from the environment (docs/local.md, "Settings"). */
export const LOCAL_DEFAULTS = {
  ...LOCAL_SETTING_DEFAULTS,
  WEBHOOK_TOKEN: 'local-dev-token-change-me',
  AWS_REGION: 'us-east-1',
} as const;

/** How long a stop waits for running deliveries and requests before it releases what they hold. */
export const STOP_GRACE_MS = 5_000;

/** What a stop left behind; `depths` is undefined when the queues could not be read. */
export interface StopReport {
  readonly depths: QueueDepths | undefined;
  /** Deliver invocations still running at the deadline, and the messages released for the next start. */
  readonly unfinishedInvocations: number;
  readonly released: number;
  /** Webhook and other requests still unanswered at the deadline (their senders must send them again). */
  readonly requestsCutOff: boolean;
}

/** Where the local stack keeps what it accepted. */
export type Storage =
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'ephemeral'; readonly reason: string }
  | { readonly kind: 'external' };

export interface LocalStack {
  readonly port: number;
  readonly webhookUrl: string;
  readonly statusUrl: string;
  /** deliver's rate ceiling (SQUADCAST_MAX_PER_MINUTE), for the banner. */
  readonly ceilingPerMinute: number;
  readonly squadcastTarget: 'local inbox' | 'SQUADCAST_WEBHOOK_URL';
  readonly allowedSourceIps: string;
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly embeddedEmulators: boolean;
  readonly storage: Storage;
  /** Stops taking webhooks and polling, lets running deliveries finish until `deadline` (epoch ms), then closes. */
  stop(deadline?: number): Promise<StopReport>;
}

/**
 * One line when the queue is about to move an alert to the dead-letter queue (it failed on its last
 * allowed receive, LOCAL_MAX_RECEIVE_COUNT): the alert id and the reason the ledger kept.
 */
const tellDeadLettered = async (message: Message, maxReceiveCount: number, ledger: LedgerReader, print: (line: string) => void) => {
  const alertId = queuedAlertId(message.Body ?? '');
  const record = alertId === undefined ? undefined : await ledger.lookup(alertId).catch(() => undefined);
  const why = record?.lastFailure ?? 'no failed send recorded: deliver failed before it could send (a crash, a timeout, a dependency)';
  print(
    `[local] dead-letter: ${alertId === undefined ? `message ${message.MessageId ?? ''}` : `alert "${escapedId(alertId)}"`} ` +
      `failed on its last receive (LOCAL_MAX_RECEIVE_COUNT=${maxReceiveCount}); the queue moves it to the dead-letter queue ` +
      `at its next receive. Reason: ${plainText(why)}. npm run dead-letters -- --local lists it.`,
  );
};

/** One line about an error of the HTTP server or the poller; a client that went away mid-request is said so. */
export const describeError = (error: unknown): string => {
  const { name, message, code } = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown };
  if (code === 'ECONNRESET' || message === 'aborted')
    return 'a client went away before its request was complete: nothing of it was accepted (it must send it again)';
  return `${typeof name === 'string' ? name : 'error'}: ${typeof message === 'string' ? message : String(error)}`;
};

const setDefault = (env: NodeJS.ProcessEnv, key: string, value: string): string => {
  if (env[key] === undefined || env[key] === '') env[key] = value;
  return env[key] ?? value;
};

/** Runs `cleanup` (best effort) when `start` fails, then fails with the original error. */
const undoing = async <T>(start: () => Promise<T>, cleanup: () => Promise<unknown>): Promise<T> => {
  try {
    return await start();
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
};

/**
 * The whole relay on 127.0.0.1, no AWS account: emulators (unless AWS_ENDPOINT_URL_SQS /
 * AWS_ENDPOINT_URL_DYNAMODB point elsewhere), kept under `dataDir` unless it is ephemeral,
 * queues and table, the real `ingest`, `deliver` and `status` handlers, an SQS poller in place
 * of Lambda's event source mapping, and a local Squadcast inbox when SQUADCAST_WEBHOOK_URL is
 * not set. Handlers read `process.env` at load, as in Lambda, so the environment is completed
 * before they are loaded. Any configuration error fails the start (ConfigError) before a request
 * is served: each function's dependencies, secrets included, are built once here, as its first
 * invocation would build them.
 */
export const startLocalStack = async (
  env: NodeJS.ProcessEnv,
  dataDir: DataDir,
  print: (line: string) => void = console.log,
): Promise<LocalStack> => {
  // Every local setting is read first: a bad one stops the start before anything runs.
  const settings = readLocalSettings(env);
  const onError = (error: unknown): void => print(`[local] ${describeError(error)}`);
  // The port next: a start refused for a port in use leaves nothing behind (no data directory). The
  // server answers 503 until it is opened; the inbox on it, once it listens, is known by its port.
  const http: LocalHttpServer = await startHttpServer({ port: settings.port, onError });
  const needsEmulators = !env.AWS_ENDPOINT_URL_SQS || !env.AWS_ENDPOINT_URL_DYNAMODB;
  let emulators: Emulators | undefined;
  let credentialsFile: CredentialsFile | undefined;
  try {
    emulators = needsEmulators ? await startEmulators(dataDir.kind === 'directory' ? { dataDir: dataDir.path } : {}) : undefined;
    if (emulators) credentialsFile = writeCredentialsFile(emulators.credentials, dataDir.kind === 'directory' ? dataDir.path : undefined);
  } catch (error) {
    http.close();
    await emulators?.stop();
    throw error;
  }
  if (emulators) {
    setDefault(env, 'AWS_ENDPOINT_URL_SQS', emulators.sqsEndpoint);
    setDefault(env, 'AWS_ENDPOINT_URL_DYNAMODB', emulators.dynamodbEndpoint);
    // The embedded emulators take only their per-start credentials: the relay signs with those, whatever
    // AWS credentials the environment holds (it calls nothing else of AWS).
    env.AWS_ACCESS_KEY_ID = emulators.credentials.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = emulators.credentials.secretAccessKey;
    delete env.AWS_SESSION_TOKEN;
    delete env.AWS_PROFILE;
  }
  setDefault(env, 'AWS_REGION', LOCAL_DEFAULTS.AWS_REGION);
  const clientConfig = { region: env.AWS_REGION };
  const sqs = new SQSClient(clientConfig);
  const dynamodb = new DynamoDBClient(clientConfig);
  const closeAll = async (): Promise<void> => {
    http.close();
    sqs.destroy();
    dynamodb.destroy();
    await emulators?.stop();
    credentialsFile?.remove();
  };

  return undoing(async () => {
    setDefault(env, 'WEBHOOK_TOKEN', LOCAL_DEFAULTS.WEBHOOK_TOKEN);
    const allowedSourceIps = setDefault(env, 'ALLOWED_SOURCE_IPS', [...THREAT_STACK_SOURCE_IPS, '127.0.0.1', '::1'].join(','));
    // Locally one process runs both poller loops and shares one rate limiter: it gets the whole ceiling.
    setDefault(env, 'DELIVERY_MAX_INVOCATIONS', '1');
    // One short line an event for a person, unless LOG_FORMAT=json asks for the functions' own lines.
    env.LOG_FORMAT = settings.logFormat;
    if (settings.logFormat === 'human') setDefault(env, 'POWERTOOLS_METRICS_DISABLED', 'true');

    const resources = await provision(sqs, dynamodb, settings.resourcePrefix, {
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      maxReceiveCount: settings.maxReceiveCount,
    });
    env.ALERTS_QUEUE_URL = resources.alertsQueueUrl;
    env.DEAD_LETTER_QUEUE_URL = resources.deadLetterQueueUrl;
    env.LEDGER_TABLE_NAME = resources.ledgerTableName;

    const kept = dataDir.kind === 'directory' && emulators !== undefined;
    const inbox = env.SQUADCAST_WEBHOOK_URL
      ? undefined
      : createLocalInbox(print, kept ? { file: join(dataDir.path, 'incidents.jsonl') } : {});
    if (inbox) env.SQUADCAST_WEBHOOK_URL = `http://127.0.0.1:${http.port}/local/squadcast/${inbox.key}`;

    // Every setting and secret, checked now: a bad one stops the start instead of answering 503 forever.
    const { token, previousToken } = await createIngestRuntime(env).deps();
    await createDeliverRuntime(env).deps();
    const ceilingPerMinute = readDeliverConfig(env).maxPerMinute;

    // Required, not imported: handlers read process.env when they load, as in Lambda, and the environment is complete only now.
    const ingest: LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult> = (
      require('../handlers/ingest') as typeof import('../handlers/ingest')
    ).handler;
    const status: LambdaHandler<unknown, RelayStatus> = (require('../handlers/status') as typeof import('../handlers/status')).handler;
    const testAlert: LambdaHandler<unknown, unknown> = (require('../handlers/test-alert') as typeof import('../handlers/test-alert'))
      .handler;
    const deliverHandler = (require('../handlers/deliver') as typeof import('../handlers/deliver')).handler;
    const realDeliver = (event: SQSEvent): Promise<SQSBatchResponse> => deliverHandler(event, localContext('deliver'));
    const faults = withInjectedFaults(realDeliver, settings.faultRate);
    if (faults.rate > 0) print(`[local] fault injection: ${faults.rate} of deliver invocations fail (LOCAL_FAULT_DELIVER_FAILURE_RATE)`);

    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: resources.alertsQueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const sqsEndpoint = env.AWS_ENDPOINT_URL_SQS ?? '';
    const region = env.AWS_REGION ?? LOCAL_DEFAULTS.AWS_REGION;
    http.open({
      ingest: (event) => ingest(event, localContext('ingest')),
      status: (request) => status(request, localContext('status')),
      testAlert: {
        token,
        ...(previousToken === undefined ? {} : { previousToken }),
        invoke: (event) => testAlert(event, localContext('testAlert')),
      },
      queues: () => ({
        sqsEndpoint,
        region,
        embedded: emulators !== undefined,
        alertsQueueUrl: resources.alertsQueueUrl,
        deadLetterQueueUrl: resources.deadLetterQueueUrl,
        ...(credentialsFile === undefined ? {} : { credentialsFile: credentialsFile.path }),
        ...(kept ? { operationsLog: join(dataDir.path, 'operations.log') } : {}),
      }),
      ...(inbox ? { inbox } : {}),
    });
    const ledger = createDynamoDbLedgerReader(DynamoDBDocumentClient.from(dynamodb), resources.ledgerTableName);
    const poller = startPoller(sqs, faults.handler, {
      queueUrl: resources.alertsQueueUrl,
      queueArn: Attributes?.QueueArn ?? 'arn:aws:sqs:us-east-1:000000000000:alerts',
      batchSize: 10,
      concurrency: 2,
      waitTimeSeconds: 1,
      onError,
      lastReceive: {
        maxReceiveCount: settings.maxReceiveCount,
        told: (message) => void tellDeadLettered(message, settings.maxReceiveCount, ledger, print),
      },
    });

    const depths = createSqsDepthReader(sqs, resources.alertsQueueUrl, resources.deadLetterQueueUrl);
    const server = http;
    const base = `http://127.0.0.1:${server.port}`;
    return {
      port: server.port,
      webhookUrl: `${base}/threatstack/${env.WEBHOOK_TOKEN}`,
      statusUrl: `${base}/status`,
      ceilingPerMinute,
      squadcastTarget: inbox ? 'local inbox' : 'SQUADCAST_WEBHOOK_URL',
      allowedSourceIps,
      sqsEndpoint,
      dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
      embeddedEmulators: emulators !== undefined,
      storage: emulators === undefined ? { kind: 'external' } : dataDir,
      stop: async (deadline = Date.now() + STOP_GRACE_MS) => {
        // New webhooks are refused at once (Threat Stack sends them again); deliveries still running
        // finish first, to the local inbox too, which is served until then; then the server drains.
        server.refuseAllButInbox();
        const stopped = await poller.stop(deadline);
        const answered = await server.drain(deadline);
        const report: StopReport = {
          depths: await depths.depths().catch(() => undefined),
          unfinishedInvocations: stopped.unfinishedInvocations,
          released: stopped.released,
          requestsCutOff: !answered,
        };
        await closeAll();
        return report;
      },
    };
  }, closeAll);
};
