import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { once } from '../common/once';
import { readIngestConfig } from '../config/env';
import { optionalSecretReader, secretReader } from '../config/secret-reader';
import { createSsmParameterStore } from '../config/ssm-parameter-store';
import type { IngestDeps } from '../ingest/ingest-webhook';
import { checkWebhookToken } from '../ingest/webhook-token';
import { createSqsQueue } from '../queue/sqs-queue';
import { awsClientConfig } from './aws-client-config';
import type { FunctionRuntime, RuntimeOptions } from './function-runtime';
import { telemetryFor } from './function-runtime';

/**
 * Config is read now (a bad value fails the cold start). The tokens are read on every invocation,
 * through a cache of SECRETS_MAX_AGE_SECONDS: a token rotated in SSM is used without a redeploy.
 */
export const createIngestRuntime = (env: NodeJS.ProcessEnv, options: RuntimeOptions = {}): FunctionRuntime<IngestDeps> => {
  const telemetry = telemetryFor('ingest', env, options);
  const config = readIngestConfig(env);
  const sqs = new SQSClient(awsClientConfig);
  // One store for both tokens: one SSM client, one cache.
  const store = once(() => createSsmParameterStore(new SSMClient(awsClientConfig), { maxAgeSeconds: config.secretsMaxAgeSeconds }));
  const secret = { store, validate: checkWebhookToken, log: telemetry.log, metrics: telemetry.metrics };
  const currentToken = secretReader({ ...secret, key: 'WEBHOOK_TOKEN', source: config.token });
  const previousToken = optionalSecretReader({ ...secret, key: 'WEBHOOK_TOKEN_PREVIOUS', source: config.previousToken });
  const base = {
    allowlist: config.allowlist,
    alerts: createSqsQueue(sqs, config.alertsQueueUrl),
    deadLetters: createSqsQueue(sqs, config.deadLetterQueueUrl),
    log: telemetry.log,
    metrics: telemetry.metrics,
    deliverSeverities: config.deliverSeverities,
    now: () => new Date(),
  };
  const deps = async (): Promise<IngestDeps> => {
    const [token, previous] = await Promise.all([currentToken(), previousToken()]);
    return { ...base, token, ...(previous === undefined ? {} : { previousToken: previous }) };
  };
  return { deps, telemetry };
};
