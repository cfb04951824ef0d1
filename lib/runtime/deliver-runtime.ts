import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { once } from '../common/once';
import { secretReader } from '../config/secret-reader';
import { createSsmParameterStore } from '../config/ssm-parameter-store';
import { circuitBreakerOptions, createCircuitBreaker } from '../delivery/circuit-breaker';
import { readDeliverConfig } from '../delivery/deliver-config';
import { maxWaitForTurnMs, postWindowMs } from '../delivery/lease-budget';
import { createRateLimiter, shareOfCeiling } from '../delivery/rate-limit';
import type { DeliverDeps } from '../delivery/record-outcome';
import { createRecoveryWatch, RECOVERY_WATCH } from '../delivery/recovery-watch';
import { retryPolicyFrom } from '../delivery/retry-budget';
import { createSquadcastSink } from '../delivery/squadcast-sink';
import { checkSquadcastUrl } from '../delivery/squadcast-url';
import { createDynamoDbLedger } from '../ledger/dynamodb-ledger';
import { createSqsQueue, createSqsRetryScheduler } from '../queue/sqs-queue';
import { awsClientConfig } from './aws-client-config';
import type { FunctionRuntime, RuntimeOptions } from './function-runtime';
import { telemetryFor } from './function-runtime';

/**
 * Clients, ledger, queues, the rate limiter, the recovery watch and the circuit breaker are built once per container; the Squadcast URL is
 * read on every invocation through a cache of SECRETS_MAX_AGE_SECONDS, so a new URL put in SSM is
 * used without a redeploy.
 */
export const createDeliverRuntime = (env: NodeJS.ProcessEnv, options: RuntimeOptions = {}): FunctionRuntime<DeliverDeps> => {
  const telemetry = telemetryFor('deliver', env, options);
  const config = readDeliverConfig(env);
  const sqs = new SQSClient(awsClientConfig);
  const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig));
  const squadcastUrl = secretReader({
    key: 'SQUADCAST_WEBHOOK_URL',
    source: config.squadcastUrl,
    store: once(() => createSsmParameterStore(new SSMClient(awsClientConfig), { maxAgeSeconds: config.secretsMaxAgeSeconds })),
    validate: checkSquadcastUrl,
    log: telemetry.log,
    metrics: telemetry.metrics,
  });
  const base = {
    ledger: createDynamoDbLedger(dynamodb, config.ledgerTableName, { leaseMs: config.leaseMs }),
    deadLetters: createSqsQueue(sqs, config.deadLetterQueueUrl),
    retries: createSqsRetryScheduler(sqs, config.alertsQueueUrl),
    retryPolicy: retryPolicyFrom(config),
    concurrency: config.concurrency,
    // One limiter per container, kept across invocations.
    rateLimit: createRateLimiter({
      perMinute: shareOfCeiling(config.maxPerMinute, config.maxInvocations),
      maxWaitMs: maxWaitForTurnMs(config),
      limiters: config.maxInvocations,
    }),
    // It remembers the records this container put back, across invocations.
    recovery: createRecoveryWatch(RECOVERY_WATCH),
    // Its state, like the watch's, is this container's: each container probes for itself.
    breaker: createCircuitBreaker(circuitBreakerOptions(config.squadcastTimeoutMs)),
    postWindowMs: postWindowMs(config),
    log: telemetry.log,
    metrics: telemetry.metrics,
    priorities: config.severityPriorities,
    unknownSeverityPriority: config.unknownSeverityPriority,
    now: () => new Date(),
    random: Math.random,
  };
  const deps = async (): Promise<DeliverDeps> => ({
    ...base,
    sink: createSquadcastSink({ url: await squadcastUrl(), timeoutMs: config.squadcastTimeoutMs }),
  });
  return { deps, telemetry };
};
