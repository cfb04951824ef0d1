import { SQSClient } from '@aws-sdk/client-sqs';
import { readDeadLetterWatchConfig } from '../config/env';
import type { DeadLetterWatchDeps } from '../dead-letter-watch/watch-dead-letters';
import { createSqsDeadLetterScanner } from '../queue/sqs-queue';
import { awsClientConfig } from './aws-client-config';
import type { FunctionRuntime, RuntimeOptions } from './function-runtime';
import { telemetryFor } from './function-runtime';

export const createDeadLetterWatchRuntime = (
  env: NodeJS.ProcessEnv,
  options: RuntimeOptions = {},
): FunctionRuntime<DeadLetterWatchDeps> => {
  const telemetry = telemetryFor('deadLetterWatch', env, options);
  const config = readDeadLetterWatchConfig(env);
  const deps: DeadLetterWatchDeps = {
    scanner: createSqsDeadLetterScanner(new SQSClient(awsClientConfig), config.deadLetterQueueUrl),
    metrics: telemetry.metrics,
    log: telemetry.log,
    now: () => new Date(),
  };
  return { deps: async () => deps, telemetry };
};
