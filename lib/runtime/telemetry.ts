import { readMetricsConfig } from '../config/env';
import { createJsonLogger } from '../telemetry/powertools-logger';
import type { PowertoolsBackedLogger } from '../telemetry/powertools-logger';
import { createRelayMetrics } from '../telemetry/powertools-metrics';
import type { RelayMetrics } from '../common/metrics';

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
