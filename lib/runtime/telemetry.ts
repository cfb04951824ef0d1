import { readMetricsConfig } from '../config/env';
import { createJsonLogger } from './logger';
import type { PowertoolsBackedLogger } from './logger';
import { createRelayMetrics } from './metrics';
import type { RelayMetrics } from './metrics';

/** The `service` dimension of every metric: one service, whichever function publishes. */
export const METRICS_SERVICE = 'threatstack-squadcast-relay';

export interface Telemetry {
  readonly log: PowertoolsBackedLogger;
  readonly metrics: RelayMetrics;
}

/** One function's logger and metrics, created once per container. Logs name the function as `service`. */
export const createTelemetry = (functionName: string, env: NodeJS.ProcessEnv): Telemetry => {
  const log = createJsonLogger(functionName);
  const config = readMetricsConfig(env);
  return { log, metrics: createRelayMetrics({ namespace: config.namespace, service: METRICS_SERVICE, stage: config.stage, log }) };
};
