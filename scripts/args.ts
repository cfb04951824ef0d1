import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import { CliError } from './cli';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options every operator command takes to name what it acts on, and --help. */
export const TARGET_OPTIONS = {
  stage: { type: 'string' },
  region: { type: 'string' },
  local: { type: 'boolean' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** node:util parseArgs, strict, with its errors turned into a usage message. */
export const parseOptions = <O extends Options>(argv: readonly string[], options: O, usage: string) => {
  const values = (() => {
    try {
      return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
    } catch (error) {
      throw new CliError(`${(error as Error).message}\n${usage}`);
    }
  })();
  // A port is checked where it is given, not when a connection to "127.0.0.1:abc" fails.
  const port = (values as { port?: unknown }).port;
  if (typeof port === 'string') intOption(port, 'port', 1, 65_535, 0);
  return values;
};

/** A whole number within bounds, from an option's text. */
export const intOption = (value: string | undefined, name: string, min: number, max: number, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new CliError(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
};

/**
 * An operator command's options (TARGET_OPTIONS and its own), parsed; undefined once `--help` has
 * printed the usage (the command then ends with 0).
 */
export const commandOptions = <O extends Options>(argv: readonly string[], own: O, usage: string, io: { out(line: string): void }) => {
  const options = parseOptions(argv, { ...TARGET_OPTIONS, ...own }, usage);
  if ((options as { help?: boolean }).help) {
    io.out(usage);
    return undefined;
  }
  return options;
};
