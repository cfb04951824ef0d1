import { SQSClient } from '@aws-sdk/client-sqs';
const c = [new SQSClient({})];
export const handler = async () => c.length;
