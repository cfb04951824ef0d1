import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';
const c = [new SQSClient({}), new DynamoDBClient({})];
export const handler = async () => [c.length, SSMClient, GetParameterCommand];
