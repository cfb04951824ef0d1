export type LogFields = Readonly<Record<string, unknown>>;

/** Structured logs, one JSON object a line. Callers pass facts, never payloads or secrets. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

type Level = 'INFO' | 'WARN' | 'ERROR';

export const createJsonLogger = (
  service: string,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  now: () => Date = () => new Date(),
): Logger => {
  const emit = (level: Level, message: string, fields?: LogFields): void =>
    write(JSON.stringify({ level, timestamp: now().toISOString(), service, message, ...fields }));
  return {
    info: (message, fields) => emit('INFO', message, fields),
    warn: (message, fields) => emit('WARN', message, fields),
    error: (message, fields) => emit('ERROR', message, fields),
  };
};
