import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { lazy } from '../common/lazy';
import { readIngestConfig } from '../config/env';
import { resolveSecret, ssmParameterReader } from '../config/resolve-secret';
import type { IngestDeps } from '../ingest/ingest-webhook';
import { WEBHOOK_TOKEN_PATTERN } from '../ingest/webhook-token';
import { createSqsQueue } from '../queue/sqs-queue';
import { awsClientConfig } from './aws-client-config';
import type { FunctionRuntime, RuntimeOptions } from './function-runtime';
import { telemetryFor } from './function-runtime';

/** Config is read now (a bad value fails the cold start); the token is fetched on first use. */
export const createIngestRuntime = (env: NodeJS.ProcessEnv, options: RuntimeOptions = {}): FunctionRuntime<IngestDeps> => {
  const telemetry = telemetryFor('ingest', env, options);
  const config = readIngestConfig(env);
  const sqs = new SQSClient(awsClientConfig);
  const deps = lazy(async () => ({
    allowlist: config.allowlist,
    token: await resolveSecret(
      'WEBHOOK_TOKEN',
      config.token,
      () => ssmParameterReader(new SSMClient(awsClientConfig)),
      (value) => (WEBHOOK_TOKEN_PATTERN.test(value) ? undefined : 'must be 16 to 256 URL-safe characters (A-Z a-z 0-9 . _ ~ -)'),
    ),
    alerts: createSqsQueue(sqs, config.alertsQueueUrl),
    deadLetters: createSqsQueue(sqs, config.deadLetterQueueUrl),
    log: telemetry.log,
    metrics: telemetry.metrics,
    deliverSeverities: config.deliverSeverities,
    now: () => new Date(),
  }));
  return { deps, telemetry };
};
