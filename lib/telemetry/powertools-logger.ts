import type { LogItem } from '@aws-lambda-powertools/logger';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogFields, Logger } from '../common/logger';
import { formatHumanLine } from './human-log';

/** How a line is printed: Powertools' JSON (Lambda, `LOG_FORMAT=json`), or one short line for a person (`human`). */
export type LogFormat = 'json' | 'human';

/** Powertools Logger with its output redirected (tests and tools that collect lines) or shown for a person. */
class LineLogger extends PowertoolsLogger {
  #write: ((line: string) => void) | undefined;
  #format: LogFormat = 'json';

  setWriter(write: (line: string) => void, format: LogFormat): this {
    this.#write = write;
    this.#format = format;
    return this;
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    if (this.#write === undefined) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    const attributes = log.getAttributes();
    this.#write(
      this.#format === 'human'
        ? formatHumanLine(JSON.parse(JSON.stringify(attributes, this.getJsonReplacer())) as Record<string, unknown>)
        : JSON.stringify(attributes, this.getJsonReplacer()),
    );
  }
}

/**
 * The Threat Stack alert id is the correlation key: a line about one alert carries it as
 * Powertools' `correlation_id`, so one Logs Insights filter follows an alert through ingest,
 * deliver and the dead-letter queue. Set per line, not with `setCorrelationId`: deliver works
 * on several alerts at once.
 */
const withCorrelation = (fields: LogFields | undefined): LogFields =>
  typeof fields?.alertId === 'string' ? { correlation_id: fields.alertId, ...fields } : (fields ?? {});

/** The Powertools Logger behind a `Logger`, for the metrics to log through the same format. */
export interface PowertoolsBackedLogger extends Logger {
  readonly powertools: PowertoolsLogger;
}

/**
 * Powertools Logger (level from POWERTOOLS_LOG_LEVEL or Lambda's log level, INFO by default;
 * X-Ray trace id added when present). `write` replaces stdout/stderr, e.g. in tests.
 */
export const createJsonLogger = (service: string, write?: (line: string) => void, format: LogFormat = 'json'): PowertoolsBackedLogger => {
  const logger = new LineLogger({ serviceName: service });
  if (write !== undefined || format === 'human') logger.setWriter(write ?? ((line) => process.stdout.write(`${line}\n`)), format);
  return {
    powertools: logger,
    info: (message, fields) => logger.info(message, withCorrelation(fields)),
    warn: (message, fields) => logger.warn(message, withCorrelation(fields)),
    error: (message, fields) => logger.error(message, withCorrelation(fields)),
  };
};
