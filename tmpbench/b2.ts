import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
const c = [new SQSClient({}), new DynamoDBClient({})];
const l = new Logger({ serviceName: 'x' }); const m = new Metrics({ namespace: 'n', serviceName: 's', logger: l });
export const handler = async () => [c.length, l, m];
