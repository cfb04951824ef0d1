import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { PowertoolsBackedLogger } from './logger';

/**
 * CloudWatch metric names, published as Embedded Metric Format lines with the dimensions
 * `service` and `stage` only (never an alert id: each distinct dimension value is a new metric).
 * serverless.yml's dashboard and tests/infra read these names.
 */
export const METRIC_NAMES = {
  /** Alerts in accepted webhook calls, valid or not. */
  received: 'AlertsReceived',
  enqueued: 'AlertsEnqueued',
  /** Invalid alerts, sent to the dead-letter queue by ingest. */
  rejected: 'AlertsRejected',
  /** Valid alerts whose severity is not in DELIVER_SEVERITIES: answered 2xx, never queued. */
  filtered: 'AlertsFiltered',
  /** Webhook calls refused for a wrong source address or token. */
  refused: 'WebhookRefused',
  delivered: 'IncidentsDelivered',
  /** Alerts delivered before: not sent again. */
  duplicate: 'DuplicatesSkipped',
  retried: 'DeliveryRetried',
  deadLettered: 'AlertsDeadLettered',
  squadcastLatency: 'SquadcastLatency',
} as const;

export type CountMetric = Exclude<keyof typeof METRIC_NAMES, 'squadcastLatency'>;

/** The port the relay's code records through; `flush` ends an invocation. */
export interface RelayMetrics {
  count(metric: CountMetric, value?: number): void;
  /** One Squadcast request's duration. */
  squadcastLatency(ms: number): void;
  flush(): void;
}

export const noMetrics: RelayMetrics = { count: () => undefined, squadcastLatency: () => undefined, flush: () => undefined };

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
  return {
    count: (metric, value = 1) => {
      counts.set(metric, (counts.get(metric) ?? 0) + value);
    },
    squadcastLatency: (ms) => {
      latencies++;
      metrics.addMetric(METRIC_NAMES.squadcastLatency, MetricUnit.Milliseconds, ms);
    },
    flush: () => {
      if (counts.size === 0 && latencies === 0) return;
      for (const [metric, value] of counts) metrics.addMetric(METRIC_NAMES[metric], MetricUnit.Count, value);
      counts.clear();
      latencies = 0;
      metrics.publishStoredMetrics();
    },
  };
};

/** Wraps a handler so that the metrics it recorded are published when it ends, even on a throw. */
export const publishingMetrics =
  <A extends unknown[], R>(metrics: RelayMetrics, handler: (...args: A) => Promise<R>) =>
  async (...args: A): Promise<R> => {
    try {
      return await handler(...args);
    } finally {
      metrics.flush();
    }
  };
