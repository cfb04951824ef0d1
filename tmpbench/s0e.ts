import { SQSClient } from '@aws-sdk/client-sqs';
import { fromEnv } from '@aws-sdk/credential-provider-env';
const c = [new SQSClient({ credentials: fromEnv() })];
export const handler = async () => c.length;
