import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const c = [new SQSClient({}), new DynamoDBClient({})];
export const handler = async () => c.length;
