import { SQSClient } from '@aws-sdk/client-sqs';
import { readTestAlertConfig } from '../config/env';
import { createSqsSingleSender, queueNameOf } from '../queue/sqs-send-message';
import type { TestAlertDeps } from '../test-alert/test-alert';
import { awsClientConfig } from './aws-client-config';
import type { FunctionRuntime, RuntimeOptions } from './function-runtime';
import { telemetryFor } from './function-runtime';

export const createTestAlertRuntime = (env: NodeJS.ProcessEnv, options: RuntimeOptions = {}): FunctionRuntime<TestAlertDeps> => {
  const telemetry = telemetryFor('test-alert', env, options);
  const config = readTestAlertConfig(env);
  const deps: TestAlertDeps = {
    alerts: createSqsSingleSender(new SQSClient(awsClientConfig), config.alertsQueueUrl),
    queueName: queueNameOf(config.alertsQueueUrl),
    stage: config.stage,
    log: telemetry.log,
    now: () => new Date(),
  };
  return { deps: async () => deps, telemetry };
};
