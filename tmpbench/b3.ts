import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either';
const c = [new SQSClient({}), new DynamoDBClient({})];
const C = t.type({ a: t.string });
export const handler = async () => [c.length, isLeft(C.decode({}))];
