export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Structured logs, one JSON object a line. Callers pass facts, never payloads or secrets.
 * A line about one alert names it as `alertId`; the adapter turns that into the correlation id.
 */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}
