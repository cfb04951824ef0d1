import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readStatusConfig } from '../config/env';
import { createDynamoDbLedgerReader } from '../ledger/dynamodb-ledger-reader';
import { createSqsDepthReader } from '../queue/sqs-queue';
import type { StatusDeps } from '../status/read-status';
import { awsClientConfig } from './aws-client-config';
import type { FunctionRuntime, RuntimeOptions } from './function-runtime';
import { telemetryFor } from './function-runtime';

export const createStatusRuntime = (env: NodeJS.ProcessEnv, options: RuntimeOptions = {}): FunctionRuntime<StatusDeps> => {
  const telemetry = telemetryFor('status', env, options);
  const config = readStatusConfig(env);
  const deps: StatusDeps = {
    ledger: createDynamoDbLedgerReader(DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig)), config.ledgerTableName),
    queues: createSqsDepthReader(new SQSClient(awsClientConfig), config.alertsQueueUrl, config.deadLetterQueueUrl),
    now: () => new Date(),
    log: telemetry.log,
    squadcastMaxPerMinute: config.squadcastMaxPerMinute,
  };
  return { deps: async () => deps, telemetry };
};
