import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { THREAT_STACK_SOURCE_IPS } from '../lib/ingest/source-allowlist';
import type { RelayStatus } from '../lib/status/relay-status';
import type { Emulators } from './emulators';
import { startEmulators } from './emulators';
import { withInjectedFaults } from './fault-injection';
import { startHttpServer } from './http-server';
import type { LambdaHandler } from './lambda-context';
import { localContext } from './lambda-context';
import { createLocalInbox } from './local-inbox';
import { startPoller } from './poller';
import { provision } from './provision';

/** Local defaults; every one can be overridden from the environment (README, "Run it locally"). */
export const LOCAL_DEFAULTS = {
  PORT: '3000',
  WEBHOOK_TOKEN: 'local-dev-token-change-me',
  AWS_REGION: 'us-east-1',
  LOCAL_VISIBILITY_TIMEOUT_SECONDS: '180',
  LOCAL_MAX_RECEIVE_COUNT: '15',
  LOCAL_RESOURCE_PREFIX: 'threatstack-squadcast-relay-local',
} as const;

export interface LocalStack {
  readonly port: number;
  readonly webhookUrl: string;
  readonly statusUrl: string;
  readonly squadcastTarget: 'local inbox' | 'SQUADCAST_WEBHOOK_URL';
  readonly allowedSourceIps: string;
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly embeddedEmulators: boolean;
  stop(): Promise<void>;
}

const setDefault = (env: NodeJS.ProcessEnv, key: string, value: string): string => {
  if (env[key] === undefined || env[key] === '') env[key] = value;
  return env[key] ?? value;
};

/**
 * The whole relay on 127.0.0.1, no AWS account: emulators (unless AWS_ENDPOINT_URL_SQS /
 * AWS_ENDPOINT_URL_DYNAMODB point elsewhere), queues and table, the real `ingest`, `deliver`
 * and `status` handlers, an SQS poller in place of Lambda's event source mapping, and a local
 * Squadcast inbox when SQUADCAST_WEBHOOK_URL is not set. Handlers read `process.env` at load,
 * as in Lambda, so the environment is completed before they are loaded.
 */
export const startLocalStack = async (
  env: NodeJS.ProcessEnv = process.env,
  print: (line: string) => void = console.log,
): Promise<LocalStack> => {
  const needsEmulators = !env.AWS_ENDPOINT_URL_SQS || !env.AWS_ENDPOINT_URL_DYNAMODB;
  const emulators: Emulators | undefined = needsEmulators ? await startEmulators() : undefined;
  if (emulators) {
    setDefault(env, 'AWS_ENDPOINT_URL_SQS', emulators.sqsEndpoint);
    setDefault(env, 'AWS_ENDPOINT_URL_DYNAMODB', emulators.dynamodbEndpoint);
    // The emulators accept any credentials; a real profile is left alone.
    setDefault(env, 'AWS_ACCESS_KEY_ID', 'local');
    setDefault(env, 'AWS_SECRET_ACCESS_KEY', 'local');
  }
  setDefault(env, 'AWS_REGION', LOCAL_DEFAULTS.AWS_REGION);
  setDefault(env, 'WEBHOOK_TOKEN', LOCAL_DEFAULTS.WEBHOOK_TOKEN);
  const allowedSourceIps = setDefault(env, 'ALLOWED_SOURCE_IPS', [...THREAT_STACK_SOURCE_IPS, '127.0.0.1', '::1'].join(','));
  // Locally one process runs both poller loops and shares one rate limiter: it gets the whole ceiling.
  setDefault(env, 'DELIVERY_MAX_INVOCATIONS', '1');

  const sqs = new SQSClient({});
  const dynamodb = new DynamoDBClient({});
  const resources = await provision(sqs, dynamodb, setDefault(env, 'LOCAL_RESOURCE_PREFIX', LOCAL_DEFAULTS.LOCAL_RESOURCE_PREFIX), {
    visibilityTimeoutSeconds: Number(setDefault(env, 'LOCAL_VISIBILITY_TIMEOUT_SECONDS', LOCAL_DEFAULTS.LOCAL_VISIBILITY_TIMEOUT_SECONDS)),
    maxReceiveCount: Number(setDefault(env, 'LOCAL_MAX_RECEIVE_COUNT', LOCAL_DEFAULTS.LOCAL_MAX_RECEIVE_COUNT)),
  });
  env.ALERTS_QUEUE_URL = resources.alertsQueueUrl;
  env.DEAD_LETTER_QUEUE_URL = resources.deadLetterQueueUrl;
  env.LEDGER_TABLE_NAME = resources.ledgerTableName;

  const inbox = env.SQUADCAST_WEBHOOK_URL ? undefined : createLocalInbox(print);
  const requestedPort = Number(setDefault(env, 'PORT', LOCAL_DEFAULTS.PORT));
  const onError = (error: unknown): void =>
    print(`[local] ${(error as Error)?.name ?? 'error'}: ${(error as Error)?.message ?? String(error)}`);
  // The inbox lives on the relay's own port, which is known only once the server listens: handlers load after.
  const handlers: {
    ingest?: LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;
    status?: LambdaHandler<unknown, RelayStatus>;
    testAlert?: LambdaHandler<unknown, unknown>;
  } = {};
  const http = await startHttpServer(
    {
      ingest: (event) => (handlers.ingest as NonNullable<typeof handlers.ingest>)(event, localContext('ingest')),
      status: () => (handlers.status as NonNullable<typeof handlers.status>)({}, localContext('status')),
      testAlert: (event) => (handlers.testAlert as NonNullable<typeof handlers.testAlert>)(event, localContext('testAlert')),
      ...(inbox ? { inbox } : {}),
    },
    requestedPort,
    onError,
  );
  if (inbox) env.SQUADCAST_WEBHOOK_URL = `http://127.0.0.1:${http.port}/local/squadcast/local-key`;

  // Required, not imported: handlers read process.env when they load, as in Lambda, and the environment is complete only now.
  handlers.ingest = (require('../handlers/ingest') as typeof import('../handlers/ingest')).handler;
  handlers.status = (require('../handlers/status') as typeof import('../handlers/status')).handler;
  handlers.testAlert = (require('../handlers/test-alert') as typeof import('../handlers/test-alert')).handler;
  const deliverHandler = (require('../handlers/deliver') as typeof import('../handlers/deliver')).handler;
  const realDeliver = (event: SQSEvent): Promise<SQSBatchResponse> => deliverHandler(event, localContext('deliver'));
  const faults = withInjectedFaults(realDeliver, env.LOCAL_FAULT_DELIVER_FAILURE_RATE);
  if (faults.rate > 0) print(`[local] fault injection: ${faults.rate} of deliver invocations fail (LOCAL_FAULT_DELIVER_FAILURE_RATE)`);
  const deliver = faults.handler;

  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: resources.alertsQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const poller = startPoller(sqs, deliver, {
    queueUrl: resources.alertsQueueUrl,
    queueArn: Attributes?.QueueArn ?? 'arn:aws:sqs:us-east-1:000000000000:alerts',
    batchSize: 10,
    concurrency: 2,
    waitTimeSeconds: 1,
    onError,
  });

  const base = `http://127.0.0.1:${http.port}`;
  return {
    port: http.port,
    webhookUrl: `${base}/threatstack/${env.WEBHOOK_TOKEN}`,
    statusUrl: `${base}/status`,
    squadcastTarget: inbox ? 'local inbox' : 'SQUADCAST_WEBHOOK_URL',
    allowedSourceIps,
    sqsEndpoint: env.AWS_ENDPOINT_URL_SQS ?? '',
    dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
    embeddedEmulators: emulators !== undefined,
    stop: async () => {
      await poller.stop();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
      http.server.closeAllConnections();
      sqs.destroy();
      dynamodb.destroy();
      await emulators?.stop();
    },
  };
};
