import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CountMetric, GaugeMetric, RelayMetrics } from '../common/metrics';
import { METRIC_NAMES } from '../common/metrics';
import type { PowertoolsBackedLogger } from './powertools-logger';

export interface MetricsSettings {
  readonly namespace: string;
  readonly service: string;
  readonly stage: string;
  /** Warnings from Powertools Metrics go through this logger, in the relay's log format. */
  readonly log: PowertoolsBackedLogger;
}

/**
 * Powertools Metrics. Counts are summed per invocation and published as one value each;
 * latencies are kept one by one (Powertools flushes by itself past 100 values). An invocation
 * that recorded nothing prints nothing. POWERTOOLS_METRICS_DISABLED=true turns output off.
 */
export const createRelayMetrics = (settings: MetricsSettings): RelayMetrics => {
  const metrics = new Metrics({
    namespace: settings.namespace,
    serviceName: settings.service,
    defaultDimensions: { stage: settings.stage },
    logger: settings.log.powertools,
  });
  const counts = new Map<CountMetric, number>();
  let latencies = 0;
  const gauges = new Map<GaugeMetric, number>();
  return {
    count: (metric, value = 1) => {
      counts.set(metric, (counts.get(metric) ?? 0) + value);
    },
    squadcastLatency: (ms) => {
      latencies++;
      metrics.addMetric(METRIC_NAMES.squadcastLatency, MetricUnit.Milliseconds, ms);
    },
    largest: (metric, seconds) => {
      gauges.set(metric, Math.max(gauges.get(metric) ?? 0, Math.round(seconds)));
    },
    flush: () => {
      if (counts.size === 0 && latencies === 0 && gauges.size === 0) return;
      for (const [metric, value] of counts) metrics.addMetric(METRIC_NAMES[metric], MetricUnit.Count, value);
      for (const [metric, value] of gauges) metrics.addMetric(METRIC_NAMES[metric], MetricUnit.Seconds, value);
      counts.clear();
      latencies = 0;
      gauges.clear();
      metrics.publishStoredMetrics();
    },
  };
};
