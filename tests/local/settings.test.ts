import { ConfigError } from '../../lib/common/config-error';
import { LOCAL_SETTING_DEFAULTS, readLocalSettings } from '../../local/settings';

const SENTINEL = 'SENTINEL-local-value';

const problemOf = (env: NodeJS.ProcessEnv): string => {
  try {
    readLocalSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe("readLocalSettings: the local stack's own settings, read once at start", () => {
  it('uses the defaults when nothing is set, and an empty value as unset', () => {
    const defaults = {
      port: 3000,
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 1000,
      resourcePrefix: LOCAL_SETTING_DEFAULTS.LOCAL_RESOURCE_PREFIX,
      faultRate: 0,
      logFormat: 'human',
    };
    expect(readLocalSettings({})).toEqual(defaults);
    expect(readLocalSettings({ PORT: '', LOCAL_MAX_RECEIVE_COUNT: '', LOG_FORMAT: '' })).toEqual(defaults);
  });

  it('reads every setting, trimmed', () => {
    expect(
      readLocalSettings({
        PORT: ' 0 ',
        LOCAL_VISIBILITY_TIMEOUT_SECONDS: '43200',
        LOCAL_MAX_RECEIVE_COUNT: '1',
        LOCAL_RESOURCE_PREFIX: 'my_relay-2',
        LOCAL_FAULT_DELIVER_FAILURE_RATE: '0.35',
        LOG_FORMAT: 'JSON',
      }),
    ).toEqual({
      port: 0,
      visibilityTimeoutSeconds: 43_200,
      maxReceiveCount: 1,
      resourcePrefix: 'my_relay-2',
      faultRate: 0.35,
      logFormat: 'json',
    });
  });

  it.each<[string, string, string]>([
    ['PORT', `abc${SENTINEL}`, 'PORT: not a whole number; accepted: 0 to 65535 (0 picks a free port)'],
    // A blank value is a mistake, not a request for a random port.
    ['PORT', '  ', 'PORT: empty; accepted: 0 to 65535 (0 picks a free port)'],
    ['PORT', '65536', 'PORT: out of range; accepted: 0 to 65535 (0 picks a free port)'],
    ['PORT', '-1', 'PORT: not a whole number; accepted: 0 to 65535 (0 picks a free port)'],
    ['LOCAL_VISIBILITY_TIMEOUT_SECONDS', SENTINEL, 'LOCAL_VISIBILITY_TIMEOUT_SECONDS: not a whole number; accepted: 1 to 43200 seconds'],
    ['LOCAL_VISIBILITY_TIMEOUT_SECONDS', '0', 'LOCAL_VISIBILITY_TIMEOUT_SECONDS: out of range; accepted: 1 to 43200 seconds'],
    // 0 would send every alert straight to the dead-letter queue.
    [
      'LOCAL_MAX_RECEIVE_COUNT',
      '0',
      'LOCAL_MAX_RECEIVE_COUNT: out of range; accepted: 1 to 1000 receives before the queue moves a message to the dead-letter queue (AWS: 1000, so that retries never reach it)',
    ],
    [
      'LOCAL_RESOURCE_PREFIX',
      `a b ${SENTINEL}`,
      'LOCAL_RESOURCE_PREFIX: accepted: 1 to 60 letters, digits, hyphens or underscores (a queue name)',
    ],
    ['LOCAL_FAULT_DELIVER_FAILURE_RATE', '2', 'LOCAL_FAULT_DELIVER_FAILURE_RATE: accepted: a number from 0 to 1'],
    ['LOG_FORMAT', SENTINEL, 'LOG_FORMAT: accepted: human or json'],
  ])('%s=%j stops the start, naming the setting and what it accepts, never the value', (key, value, problem) => {
    const message = problemOf({ [key]: value });
    expect(message).toBe(`invalid configuration: ${problem}`);
    expect(message).not.toContain(SENTINEL);
  });

  it('names every bad setting at once', () => {
    expect(problemOf({ PORT: 'x', LOCAL_MAX_RECEIVE_COUNT: '0', LOG_FORMAT: 'xml' })).toMatch(
      /^invalid configuration: PORT: .+; LOCAL_MAX_RECEIVE_COUNT: .+; LOG_FORMAT: .+$/,
    );
  });
});
