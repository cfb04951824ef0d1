import { escapedId, plainText, truncate } from '../common/text';

/**
 * One short line for a person reading a terminal (`npm start`), from one structured log line:
 * `10:32:01 deliver  incident delivered  alertId=abc status=202 latencyMs=12`. Lambda keeps the JSON
 * lines (LOG_FORMAT unset); the local stack asks for these unless LOG_FORMAT=json.
 */

/** Powertools' own keys and the Lambda context: in every JSON line, noise on a terminal. */
const LEFT_OUT = new Set([
  'level',
  'message',
  'service',
  'timestamp',
  'sampling_rate',
  'xray_trace_id',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'correlation_id',
]);

/** Text from the payload (an alert id, a reason) can hold control characters: they are removed before a terminal sees them. */
const show = (value: unknown): string => {
  const isPlainList = Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number');
  const text = typeof value === 'string' ? value : isPlainList ? value.join(',') : (JSON.stringify(value) ?? String(value));
  return truncate(plainText(text), 120);
};

export const formatHumanLine = (attributes: Readonly<Record<string, unknown>>): string => {
  const time = typeof attributes.timestamp === 'string' ? attributes.timestamp.slice(11, 19) : '';
  const level = attributes.level === 'WARN' || attributes.level === 'ERROR' ? ` ${attributes.level}` : '';
  const fields = Object.entries(attributes)
    .filter(([key, value]) => !LEFT_OUT.has(key) && value !== undefined)
    // An alert id is shown escaped, never cleaned: two ids that differ only in what a terminal cannot show stay two.
    .map(([key, value]) => `${key}=${key === 'alertId' && typeof value === 'string' ? truncate(escapedId(value), 120) : show(value)}`);
  return [`${time} ${show(attributes.service ?? '').padEnd(10)}${level} ${show(attributes.message ?? '')}`, ...fields].join('  ');
};
