import type { Checked } from '../lib/common/checked';
import { invalid, valid } from '../lib/common/checked';
import { ConfigError } from '../lib/common/config-error';

/**
 * The local stack's own settings (docs/local.md, "Settings"), read once at start. A bad value stops the
 * start with the setting's name, what is wrong with the value and what is accepted, never the value.
 * (The functions' settings, WEBHOOK_TOKEN among them, are read by lib/config like in Lambda.)
 */
export interface LocalSettings {
  /** HTTP port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly resourcePrefix: string;
  /** Share of deliver invocations that fail on purpose (the conservation tests); 0 normally. */
  readonly faultRate: number;
  /** `human`: one short line per event (the default on a terminal); `json`: the functions' own JSON lines. */
  readonly logFormat: 'human' | 'json';
}

export const LOCAL_SETTING_DEFAULTS = {
  PORT: '3000',
  LOCAL_VISIBILITY_TIMEOUT_SECONDS: '180',
  LOCAL_MAX_RECEIVE_COUNT: '1000',
  LOCAL_RESOURCE_PREFIX: 'threatstack-squadcast-relay-local',
} as const;

type Parse<T> = (text: string) => Checked<T>;

const wholeNumber =
  (min: number, max: number, accepted: string): Parse<number> =>
  (text) => {
    const trimmed = text.trim();
    if (!/^\d+$/.test(trimmed)) return invalid(`${trimmed === '' ? 'empty' : 'not a whole number'}; accepted: ${accepted}`);
    const n = Number(trimmed);
    return n >= min && n <= max ? valid(n) : invalid(`out of range; accepted: ${accepted}`);
  };

/** Every local setting, or one ConfigError that lists every bad one. */
export const readLocalSettings = (env: NodeJS.ProcessEnv): LocalSettings => {
  const problems: string[] = [];
  const read = <T>(key: string, fallback: string, parse: Parse<T>): T => {
    const raw = env[key];
    const checked = parse(raw === undefined || raw === '' ? fallback : raw);
    if (checked.kind === 'valid') return checked.value;
    problems.push(...checked.problems.map((problem) => `${key}: ${problem}`));
    const fallbackValue = parse(fallback);
    if (fallbackValue.kind === 'invalid') throw new Error(`${key}: its default does not parse`);
    return fallbackValue.value;
  };
  const settings: LocalSettings = {
    port: read('PORT', LOCAL_SETTING_DEFAULTS.PORT, wholeNumber(0, 65_535, '0 to 65535 (0 picks a free port)')),
    // SQS's own ranges: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
    visibilityTimeoutSeconds: read(
      'LOCAL_VISIBILITY_TIMEOUT_SECONDS',
      LOCAL_SETTING_DEFAULTS.LOCAL_VISIBILITY_TIMEOUT_SECONDS,
      wholeNumber(1, 43_200, '1 to 43200 seconds'),
    ),
    maxReceiveCount: read(
      'LOCAL_MAX_RECEIVE_COUNT',
      LOCAL_SETTING_DEFAULTS.LOCAL_MAX_RECEIVE_COUNT,
      wholeNumber(
        1,
        1_000,
        '1 to 1000 receives before the queue moves a message to the dead-letter queue (AWS: 1000, so that retries never reach it)',
      ),
    ),
    resourcePrefix: read('LOCAL_RESOURCE_PREFIX', LOCAL_SETTING_DEFAULTS.LOCAL_RESOURCE_PREFIX, (text) =>
      /^[A-Za-z0-9_-]{1,60}$/.test(text.trim())
        ? valid(text.trim())
        : invalid('accepted: 1 to 60 letters, digits, hyphens or underscores (a queue name)'),
    ),
    faultRate: read('LOCAL_FAULT_DELIVER_FAILURE_RATE', '0', (text) => {
      const n = Number(text.trim());
      return text.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 1 ? valid(n) : invalid('accepted: a number from 0 to 1');
    }),
    logFormat: read('LOG_FORMAT', 'human', (text): Checked<'human' | 'json'> => {
      const format = text.trim().toLowerCase();
      return format === 'human' || format === 'json' ? valid(format) : invalid('accepted: human or json');
    }),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
};

/**
 * Signals that arrive within this long are one Ctrl-C: a terminal sends SIGINT to every process of
 * its foreground group (npm, and the relay), and a process in between may pass the same one on.
 */
export const SAME_CTRL_C_MS = 1_000;
