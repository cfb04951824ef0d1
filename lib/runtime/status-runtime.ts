import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoDbActivityReader } from '../ledger/dynamodb-ledger';
import { readStatusConfig } from '../config/env';
import { createSqsDepthReader } from '../queue/sqs-queue';
import type { StatusDeps } from '../status/read-status';
import { awsClientConfig } from './aws-client-config';

export const createStatusRuntime = (env: NodeJS.ProcessEnv): StatusDeps => {
  const config = readStatusConfig(env);
  const sqs = new SQSClient(awsClientConfig);
  return {
    activity: createDynamoDbActivityReader(new DynamoDBClient(awsClientConfig), config.activityTableName),
    queues: createSqsDepthReader(sqs, config.alertsQueueUrl, config.deadLetterQueueUrl),
    now: () => new Date(),
  };
};
