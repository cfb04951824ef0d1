import type { Context } from 'aws-lambda';
import { ConfigError } from '../common/config-error';
import type { RelayMetrics } from '../common/metrics';
import type { LogFormat, PowertoolsBackedLogger } from './powertools-logger';
import { createJsonLogger } from './powertools-logger';
import { createRelayMetrics } from './powertools-metrics';

/** The `service` dimension of every metric: one service, whichever function publishes. */
export const METRICS_SERVICE = 'threatstack-squadcast-relay';

export interface Telemetry {
  readonly log: PowertoolsBackedLogger;
  readonly metrics: RelayMetrics;
}

export interface TelemetrySettings {
  /** CloudWatch namespace of the relay's metrics. */
  readonly namespace: string;
  /** The `stage` dimension. */
  readonly stage: string;
  /** Replaces stdout for log and metric lines (tests). */
  readonly write?: (line: string) => void;
  /** `json` (Lambda, the default) or `human` (npm start's terminal). */
  readonly logFormat?: LogFormat;
}

/** One function's logger and metrics, created once per container. Logs name the function as `service`. */
export const createTelemetry = (functionName: string, settings: TelemetrySettings): Telemetry => {
  const log = createJsonLogger(functionName, settings.write, settings.logFormat);
  return { log, metrics: createRelayMetrics({ namespace: settings.namespace, service: METRICS_SERVICE, stage: settings.stage, log }) };
};

/**
 * Wraps a Lambda handler the same way for every function: the invocation's context goes on every
 * log line (Powertools' `function_request_id`, `cold_start`, function name, version and memory), and
 * the metrics recorded are published when the invocation ends, even on a throw. A throw is logged
 * as one line with its name (and a ConfigError's message, which names keys, never values), so it
 * carries the request id too; Lambda still reports it as the invocation's error. The context is
 * optional so that the local stack and tests can call the handler with an event alone.
 * https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/#capturing-lambda-context-info
 */
export const instrumented =
  <E, R>(telemetry: Telemetry, handler: (event: E) => Promise<R>) =>
  async (event: E, context?: Context): Promise<R> => {
    if (context !== undefined) telemetry.log.powertools.addContext(context);
    try {
      return await handler(event);
    } catch (error) {
      telemetry.log.error('invocation failed', {
        error: (error as Error)?.name ?? 'unknown',
        detail: error instanceof ConfigError ? error.message : undefined,
      });
      throw error;
    } finally {
      telemetry.metrics.flush();
    }
  };
