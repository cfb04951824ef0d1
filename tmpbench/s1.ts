import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';
const c = [new SQSClient({})];
export const handler = async () => [c.length, SSMClient, GetParameterCommand];
