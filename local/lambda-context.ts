import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** A handler as Lambda calls it. */
export type LambdaHandler<E, R> = (event: E, context?: Context) => Promise<R>;

/**
 * The context Lambda passes with each invocation, as far as the relay's logs use it: a fresh
 * request id per call, so that local log lines carry `function_request_id` as they do in AWS.
 */
export const localContext = (functionName: string): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: `threatstack-squadcast-relay-local-${functionName}`,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:threatstack-squadcast-relay-local-${functionName}`,
  memoryLimitInMB: '256',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/threatstack-squadcast-relay-local-${functionName}`,
  logStreamName: 'local',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
