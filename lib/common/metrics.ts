/**
 * CloudWatch metric names, published as Embedded Metric Format lines with the dimensions
 * `service` and `stage` only (never an alert id: each distinct dimension value is a new metric).
 * serverless.yml's dashboard and alarms, and tests/infra, read these names.
 */
export const METRIC_NAMES = {
  /** Alerts in accepted webhook calls, valid or not. */
  received: 'AlertsReceived',
  enqueued: 'AlertsEnqueued',
  /** Invalid alerts, sent to the dead-letter queue by ingest. */
  rejected: 'AlertsRejected',
  /** Alerts queued with fields the relay could not read: they page as degraded incidents. */
  degraded: 'AlertsDegraded',
  /** Valid alerts whose severity is not in DELIVER_SEVERITIES: answered 2xx, never queued. */
  filtered: 'AlertsFiltered',
  // Webhook calls refused, one metric per reason so that each alarm reads one metric. Both 403s
  // answer the caller alike; only these counts and the log tell them apart.
  /** 403: the address is not in ALLOWED_SOURCE_IPS (API Gateway's resource policy refuses most first). */
  refusedSource: 'WebhookRefusedSource',
  /** 403: an allowed address, a wrong token (a rotated token, or another Threat Stack customer). */
  refusedToken: 'WebhookRefusedToken',
  /** 415: a compressed body (any Content-Encoding but identity). */
  refusedEncoding: 'WebhookRefusedEncoding',
  /** 413: a body over the size ingest reads. */
  refusedTooLarge: 'WebhookRefusedTooLarge',
  /** 400: not UTF-8 or not JSON. */
  refusedNotJson: 'WebhookRefusedNotJson',
  /** 400: JSON, but neither a batch of alerts nor an alert. */
  refusedNoAlerts: 'WebhookRefusedNoAlerts',
  delivered: 'IncidentsDelivered',
  /** Alerts delivered before: not sent again. */
  duplicate: 'DuplicatesSkipped',
  retried: 'DeliveryRetried',
  deadLettered: 'AlertsDeadLettered',
  // Failed sends to Squadcast, one metric per class (lib/delivery/send-outcome.ts).
  /** 5xx. */
  failedServerError: 'SquadcastFailedServerError',
  /** 429. */
  failedThrottled: 'SquadcastFailedThrottled',
  /** 408, or no answer within SQUADCAST_TIMEOUT_MS. */
  failedTimeout: 'SquadcastFailedTimeout',
  /** The connection failed (DNS, refused, reset). */
  failedNetwork: 'SquadcastFailedNetwork',
  /** Any other 4xx: will not change on retry; the alert is dead-lettered. */
  failedRefused: 'SquadcastRefused',
  /** A retry's visibility timeout cut to what SQS allows (12 hours from the receive). */
  retryClamped: 'RetryDelayClamped',
  /**
   * A secret (webhook token, Squadcast URL) could not be read again from SSM, or SSM held a bad
   * value: the last good value is used meanwhile, for at most an hour.
   */
  secretStale: 'SecretReadFailed',
  squadcastLatency: 'SquadcastLatency',
  // Gauges: one value per invocation, the largest (each alarm reads its Maximum).
  /**
   * The age, in seconds since it was queued, of the oldest alert an invocation leaves undelivered,
   * for any reason: a failed send, a dependency error, the rate ceiling, a lease held elsewhere
   * (AlertsHeldBackAlarm).
   */
  oldestHeldBackAlertAge: 'OldestHeldBackAlertAge',
  /** How long, in seconds since its first failed send, the longest-failing alert of an invocation has failed (SquadcastOutageAlarm). */
  squadcastFailingFor: 'SquadcastFailingFor',
  /** The age, in seconds since it was first queued, of the oldest dead letter (DeadLetterExpiryAlarm; SQS deletes it at 14 days). */
  oldestDeadLetterAge: 'OldestDeadLetterAge',
} as const;

/** The gauges: an invocation publishes the largest value it saw. */
export type GaugeMetric = 'oldestHeldBackAlertAge' | 'squadcastFailingFor' | 'oldestDeadLetterAge';

export type CountMetric = Exclude<keyof typeof METRIC_NAMES, 'squadcastLatency' | GaugeMetric>;

/** The port the relay's code records through; `flush` ends an invocation. */
export interface RelayMetrics {
  count(metric: CountMetric, value?: number): void;
  /** One Squadcast request's duration. */
  squadcastLatency(ms: number): void;
  /** A gauge's value in seconds; the invocation publishes the largest it was given. */
  largest(metric: GaugeMetric, seconds: number): void;
  flush(): void;
}
