import { SQSClient } from '@aws-sdk/client-sqs';
import { readTestAlertConfig } from '../config/env';
import { createSqsSingleSender, queueNameOf } from '../queue/sqs-send-message';
import type { TestAlertDeps } from '../test-alert/test-alert';
import { awsClientConfig } from './aws-client-config';
import { createJsonLogger } from '../telemetry/powertools-logger';

export const createTestAlertRuntime = (env: NodeJS.ProcessEnv): TestAlertDeps => {
  const config = readTestAlertConfig(env);
  return {
    alerts: createSqsSingleSender(new SQSClient(awsClientConfig), config.alertsQueueUrl),
    queueName: queueNameOf(config.alertsQueueUrl),
    stage: config.stage,
    log: createJsonLogger('test-alert'),
    now: () => new Date(),
  };
};
