import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createDynamoDbLedger } from '../activity/dynamodb-activity-store';
import { readDeliverConfig } from '../config/env';
import { resolveSecret, ssmParameterReader } from '../config/resolve-secret';
import type { DeliverDeps } from '../delivery/deliver-batch';
import { createSquadcastSink } from '../delivery/squadcast-sink';
import { checkSquadcastUrl } from '../delivery/squadcast-url';
import { createSqsQueue, createSqsRetryScheduler } from '../queue/sqs-queue';
import { awsClientConfig } from './aws-client-config';
import { lazy } from './lazy';
import { createJsonLogger } from './logger';

export const createDeliverRuntime = (env: NodeJS.ProcessEnv): (() => Promise<DeliverDeps>) => {
  const config = readDeliverConfig(env);
  const sqs = new SQSClient(awsClientConfig);
  const dynamodb = new DynamoDBClient(awsClientConfig);
  return lazy(async () => ({
    sink: createSquadcastSink({
      url: await resolveSecret('SQUADCAST_WEBHOOK_URL', config.squadcastUrl, () => ssmParameterReader(new SSMClient(awsClientConfig)), checkSquadcastUrl),
      timeoutMs: config.squadcastTimeoutMs,
    }),
    ledger: createDynamoDbLedger(dynamodb, config.activityTableName, { leaseMs: config.leaseMs }),
    deadLetters: createSqsQueue(sqs, config.deadLetterQueueUrl),
    retries: createSqsRetryScheduler(sqs, config.alertsQueueUrl),
    retryPolicy: { baseSeconds: config.retryBaseSeconds, maxSeconds: config.retryMaxSeconds, inFlightSeconds: Math.ceil(config.leaseMs / 1000) },
    concurrency: config.concurrency,
    log: createJsonLogger('deliver'),
    now: () => new Date(),
  }));
};
