import { ConfigError } from '../../../lib/common/config-error';
import { Secret } from '../../../lib/common/secret';
import {
  parsePriorities,
  parseSeverities,
  readDeliverConfig,
  readIngestConfig,
  readMetricsConfig,
  readStatusConfig,
  readTestAlertConfig,
} from '../../../lib/config/env';
import { MAX_RETRY_STEP_SECONDS } from '../../../lib/delivery/retry-budget';
import { SENTINEL } from '../../helpers/factories';

const QUEUES = {
  ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/alerts',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letter',
};
const INGEST_ENV = { ...QUEUES, WEBHOOK_TOKEN: 'token-0123456789abcdef' };
const DELIVER_ENV = { ...QUEUES, LEDGER_TABLE_NAME: 'ledger', SQUADCAST_WEBHOOK_URL: 'http://127.0.0.1:9/x' };

/** The ConfigError `read` throws; fails the test if it returns or throws something else. */
const configErrorOf = (read: () => unknown): ConfigError => {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('ConfigError', () => {
  it('is an Error named ConfigError that lists its problems', () => {
    const error = new ConfigError(['A: expected x', 'B: expected y']);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe('invalid configuration: A: expected x; B: expected y');
  });
});

describe('readIngestConfig', () => {
  it('reads a complete environment', () => {
    const config = readIngestConfig(INGEST_ENV);
    expect(config.alertsQueueUrl).toBe(QUEUES.ALERTS_QUEUE_URL);
    expect(config.deadLetterQueueUrl).toBe(QUEUES.DEAD_LETTER_QUEUE_URL);
    expect(config.token.kind).toBe('value');
    expect(config.token.kind === 'value' && config.token.secret.reveal()).toBe('token-0123456789abcdef');
    expect(config.allowlist.entries).toEqual(['52.20.173.142', '54.173.79.87', '54.174.225.119']);
    expect([...config.deliverSeverities].sort()).toEqual([1, 2, 3]);
  });

  it('never prints the token when the config is logged', () => {
    const config = readIngestConfig({ ...INGEST_ENV, WEBHOOK_TOKEN: SENTINEL });
    expect(JSON.stringify(config)).not.toContain(SENTINEL);
    expect(String(config.token.kind === 'value' && config.token.secret)).toBe('<secret>');
  });

  it('names every missing key', () => {
    const error = configErrorOf(() => readIngestConfig({ WEBHOOK_TOKEN: 'token-0123456789abcdef' }));
    expect(error.message).toBe(
      'invalid configuration: ALERTS_QUEUE_URL: expected non-empty string; DEAD_LETTER_QUEUE_URL: expected non-empty string',
    );
  });

  it('treats a blank value as missing', () => {
    expect(configErrorOf(() => readIngestConfig({ ...INGEST_ENV, ALERTS_QUEUE_URL: '   ' })).message).toBe(
      'invalid configuration: ALERTS_QUEUE_URL: expected non-empty string',
    );
  });

  it.each<[string, Record<string, string>, unknown]>([
    ['WEBHOOK_TOKEN', { WEBHOOK_TOKEN: 'from-env-0123456789' }, { kind: 'value', secret: expect.any(Secret) }],
    ['WEBHOOK_TOKEN_PARAMETER', { WEBHOOK_TOKEN_PARAMETER: ' /relay/webhook-token ' }, { kind: 'parameter', name: '/relay/webhook-token' }],
    [
      'both (the value wins)',
      { WEBHOOK_TOKEN: 'from-env-0123456789', WEBHOOK_TOKEN_PARAMETER: '/relay/webhook-token' },
      { kind: 'value', secret: expect.any(Secret) },
    ],
    ['an empty WEBHOOK_TOKEN and a parameter', { WEBHOOK_TOKEN: '', WEBHOOK_TOKEN_PARAMETER: '/p' }, { kind: 'parameter', name: '/p' }],
  ])('takes the token from %s', (_name, token, source) => {
    expect(readIngestConfig({ ...QUEUES, ...token }).token).toEqual(source);
  });

  it.each<[string, Record<string, string>]>([
    ['neither is set', {}],
    ['both are empty', { WEBHOOK_TOKEN: '', WEBHOOK_TOKEN_PARAMETER: '  ' }],
  ])('names WEBHOOK_TOKEN and WEBHOOK_TOKEN_PARAMETER when %s', (_name, token) => {
    expect(configErrorOf(() => readIngestConfig({ ...QUEUES, ...token })).message).toBe(
      'invalid configuration: WEBHOOK_TOKEN: set it, or WEBHOOK_TOKEN_PARAMETER (an SSM SecureString parameter name)',
    );
  });

  it.each<[string, Record<string, string>, unknown]>([
    ['neither set: no previous token', {}, undefined],
    ['both empty: no previous token', { WEBHOOK_TOKEN_PREVIOUS: '', WEBHOOK_TOKEN_PREVIOUS_PARAMETER: ' ' }, undefined],
    ['WEBHOOK_TOKEN_PREVIOUS', { WEBHOOK_TOKEN_PREVIOUS: 'previous-0123456789' }, { kind: 'value', secret: expect.any(Secret) }],
    [
      'WEBHOOK_TOKEN_PREVIOUS_PARAMETER',
      { WEBHOOK_TOKEN_PREVIOUS_PARAMETER: ' /relay/webhook-token-previous ' },
      { kind: 'parameter', name: '/relay/webhook-token-previous' },
    ],
  ])('reads the previous token (optional): %s', (_name, previous, source) => {
    expect(readIngestConfig({ ...INGEST_ENV, ...previous }).previousToken).toEqual(source);
  });

  it.each<[string, string | undefined, number]>([
    ['unset: 5 minutes', undefined, 300],
    ['empty: 5 minutes', '', 300],
    ['60', '60', 60],
    ['0 (read on every invocation)', '0', 0],
    ['3600', '3600', 3_600],
  ])('reads SECRETS_MAX_AGE_SECONDS, for ingest and deliver: %s', (_name, value, seconds) => {
    const env = value === undefined ? {} : { SECRETS_MAX_AGE_SECONDS: value };
    expect(readIngestConfig({ ...INGEST_ENV, ...env }).secretsMaxAgeSeconds).toBe(seconds);
    expect(readDeliverConfig({ ...DELIVER_ENV, ...env }).secretsMaxAgeSeconds).toBe(seconds);
  });

  it.each(['3601', '-1', '5m', '1.5'])('refuses SECRETS_MAX_AGE_SECONDS=%p, naming the key', (value) => {
    expect(configErrorOf(() => readIngestConfig({ ...INGEST_ENV, SECRETS_MAX_AGE_SECONDS: value })).message).toBe(
      'invalid configuration: SECRETS_MAX_AGE_SECONDS: expected integer 0..3600',
    );
  });

  it.each<[string, string, string, boolean]>([
    ['an address', '198.51.100.7', '198.51.100.7', true],
    ['a list with a CIDR block', '198.51.100.7, 10.0.0.0/8', '10.1.2.3', true],
    ['a list that leaves Threat Stack out', '198.51.100.7', '52.20.173.142', false],
    ['blank (the default)', '  ', '52.20.173.142', true],
    ['empty entries around', ',198.51.100.7,,', '198.51.100.7', true],
  ])('reads ALLOWED_SOURCE_IPS: %s', (_name, value, address, allowed) => {
    expect(readIngestConfig({ ...INGEST_ENV, ALLOWED_SOURCE_IPS: value }).allowlist.allows(address)).toBe(allowed);
  });

  it.each<[string, string, string]>([
    ['a malformed entry', `10.0.0.1,${SENTINEL}`, 'ALLOWED_SOURCE_IPS: entry 2 is not an IP address or CIDR block'],
    ['a bad prefix', `10.0.0.0/${SENTINEL}`, 'ALLOWED_SOURCE_IPS: entry 1 has an invalid CIDR prefix length'],
    ['only separators', ' , , ', 'ALLOWED_SOURCE_IPS: the list is empty'],
  ])('refuses ALLOWED_SOURCE_IPS with %s, by position, never by value', (_name, value, problem) => {
    const error = configErrorOf(() => readIngestConfig({ ...INGEST_ENV, ALLOWED_SOURCE_IPS: value }));
    expect(error.message).toBe(`invalid configuration: ${problem}`);
    expect(error.message).not.toContain(SENTINEL);
  });

  it('reads DELIVER_SEVERITIES', () => {
    expect([...readIngestConfig({ ...INGEST_ENV, DELIVER_SEVERITIES: 'high, 2' }).deliverSeverities].sort()).toEqual([1, 2]);
  });

  it('refuses a bad DELIVER_SEVERITIES by position, never by value', () => {
    const error = configErrorOf(() => readIngestConfig({ ...INGEST_ENV, DELIVER_SEVERITIES: `1,${SENTINEL}` }));
    expect(error.message).toBe('invalid configuration: DELIVER_SEVERITIES: entry 2 is not a severity (1, 2, 3, high, medium or low)');
  });
});

describe('readDeliverConfig', () => {
  it('applies the defaults', () => {
    expect(readDeliverConfig(DELIVER_ENV)).toEqual({
      alertsQueueUrl: QUEUES.ALERTS_QUEUE_URL,
      deadLetterQueueUrl: QUEUES.DEAD_LETTER_QUEUE_URL,
      ledgerTableName: 'ledger',
      squadcastUrl: { kind: 'value', secret: expect.any(Secret) },
      secretsMaxAgeSeconds: 300,
      squadcastTimeoutMs: 8_000,
      concurrency: 10,
      leaseMs: 45_000,
      retryBaseSeconds: 2,
      retryMaxSeconds: 300,
      giveUpHours: 24,
      maxPerMinute: 150,
      maxInvocations: 2,
      severityPriorities: { 1: 'P1', 2: 'P2', 3: 'P3' },
      unknownSeverityPriority: 'P1',
    });
  });

  it('treats an empty value as unset (the default applies)', () => {
    expect(readDeliverConfig({ ...DELIVER_ENV, DELIVERY_CONCURRENCY: '' }).concurrency).toBe(10);
  });

  it('reads every setting', () => {
    const config = readDeliverConfig({
      ...DELIVER_ENV,
      SQUADCAST_TIMEOUT_MS: '2500',
      DELIVERY_CONCURRENCY: ' 4 ',
      DELIVERY_LEASE_MS: '60000',
      DELIVERY_RETRY_BASE_SECONDS: '1',
      DELIVERY_RETRY_MAX_SECONDS: '240',
      DELIVERY_GIVE_UP_HOURS: '312',
      SQUADCAST_MAX_PER_MINUTE: '300',
      DELIVERY_MAX_INVOCATIONS: '3',
      SEVERITY_PRIORITIES: '2=P4',
    });
    expect(config).toEqual(
      expect.objectContaining({
        squadcastTimeoutMs: 2_500,
        concurrency: 4,
        leaseMs: 60_000,
        retryBaseSeconds: 1,
        retryMaxSeconds: 240,
        giveUpHours: 312,
        maxPerMinute: 300,
        maxInvocations: 3,
        severityPriorities: { 1: 'P1', 2: 'P4', 3: 'P3' },
      }),
    );
  });

  it.each<[string, string, string]>([
    ['DELIVERY_CONCURRENCY', `abc${SENTINEL}`, 'integer 1..100'],
    ['DELIVERY_CONCURRENCY', '0', 'integer 1..100'],
    ['DELIVERY_CONCURRENCY', '101', 'integer 1..100'],
    ['DELIVERY_CONCURRENCY', '2.5', 'integer 1..100'],
    ['DELIVERY_CONCURRENCY', '-3', 'integer 1..100'],
    ['DELIVERY_CONCURRENCY', '1e2', 'integer 1..100'],
    ['SQUADCAST_TIMEOUT_MS', '99', 'integer 100..60000'],
    ['SQUADCAST_TIMEOUT_MS', SENTINEL, 'integer 100..60000'],
    ['DELIVERY_LEASE_MS', '900001', 'integer 1000..900000'],
    ['DELIVERY_RETRY_BASE_SECONDS', '3601', 'integer 1..3600'],
    // 0 would be a hot retry loop.
    ['DELIVERY_RETRY_BASE_SECONDS', '0', 'integer 1..3600'],
    ['DELIVERY_RETRY_MAX_SECONDS', '0', 'integer 1..43200'],
    ['DELIVERY_GIVE_UP_HOURS', '0', 'integer 1..312'],
    // The queue keeps a message 14 days (336 h); the last day is kept for the move to the dead-letter queue.
    ['DELIVERY_GIVE_UP_HOURS', '313', 'integer 1..312'],
    ['DELIVERY_GIVE_UP_HOURS', '1.5', 'integer 1..312'],
    ['SQUADCAST_MAX_PER_MINUTE', '0', 'integer 1..1000000'],
    ['DELIVERY_MAX_INVOCATIONS', 'two', 'integer 1..1000'],
  ])('names %s=%p with what it expects, never the value', (key, value, expected) => {
    const error = configErrorOf(() => readDeliverConfig({ ...DELIVER_ENV, [key]: value }));
    expect(error.message).toBe(`invalid configuration: ${key}: expected ${expected}`);
    expect(error.message).not.toContain(SENTINEL);
  });

  it('names every bad key at once', () => {
    const error = configErrorOf(() =>
      readDeliverConfig({ ...QUEUES, SQUADCAST_WEBHOOK_URL: 'x', DELIVERY_CONCURRENCY: 'abc', DELIVERY_LEASE_MS: 'abc' }),
    );
    expect(error.message).toBe(
      'invalid configuration: LEDGER_TABLE_NAME: expected non-empty string; DELIVERY_CONCURRENCY: expected integer 1..100; DELIVERY_LEASE_MS: expected integer 1000..900000',
    );
  });

  it.each<[string, Record<string, string>, unknown]>([
    [
      'SQUADCAST_WEBHOOK_URL',
      { SQUADCAST_WEBHOOK_URL: 'https://api.squadcast.com/v2/incidents/api/k' },
      { kind: 'value', secret: expect.any(Secret) },
    ],
    [
      'SQUADCAST_WEBHOOK_URL_PARAMETER',
      { SQUADCAST_WEBHOOK_URL_PARAMETER: '/relay/squadcast-url' },
      { kind: 'parameter', name: '/relay/squadcast-url' },
    ],
  ])('takes the Squadcast URL from %s', (_name, url, source) => {
    expect(readDeliverConfig({ ...QUEUES, LEDGER_TABLE_NAME: 'ledger', ...url }).squadcastUrl).toEqual(source);
  });

  it('names both Squadcast URL keys when neither is set', () => {
    expect(configErrorOf(() => readDeliverConfig({ ...QUEUES, LEDGER_TABLE_NAME: 'ledger' })).message).toBe(
      'invalid configuration: SQUADCAST_WEBHOOK_URL: set it, or SQUADCAST_WEBHOOK_URL_PARAMETER (an SSM SecureString parameter name)',
    );
  });

  it('never prints the Squadcast URL when the config is logged', () => {
    const config = readDeliverConfig({ ...DELIVER_ENV, SQUADCAST_WEBHOOK_URL: `https://api.squadcast.com/v2/incidents/api/${SENTINEL}` });
    expect(JSON.stringify(config)).not.toContain(SENTINEL);
  });

  it('refuses a bad SEVERITY_PRIORITIES by position, never by value', () => {
    const error = configErrorOf(() => readDeliverConfig({ ...DELIVER_ENV, SEVERITY_PRIORITIES: `1=P1,2=${SENTINEL}` }));
    expect(error.message).toBe(
      'invalid configuration: SEVERITY_PRIORITIES: entry 2 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)',
    );
  });

  it.each<[string, Record<string, string>, string]>([
    ['defaults to the highest priority SEVERITY_PRIORITIES uses', { SEVERITY_PRIORITIES: '1=P3,2=P4,3=P5' }, 'P3'],
    ['is empty: the same default', { SEVERITY_PRIORITIES: '1=P2', UNKNOWN_SEVERITY_PRIORITY: ' ' }, 'P2'],
    ['is set (any case)', { UNKNOWN_SEVERITY_PRIORITY: 'p4' }, 'P4'],
  ])('reads UNKNOWN_SEVERITY_PRIORITY when it %s', (_name, env, expected) => {
    expect(readDeliverConfig({ ...DELIVER_ENV, ...env }).unknownSeverityPriority).toBe(expected);
  });

  it('refuses a bad UNKNOWN_SEVERITY_PRIORITY, never by value', () => {
    const error = configErrorOf(() => readDeliverConfig({ ...DELIVER_ENV, UNKNOWN_SEVERITY_PRIORITY: SENTINEL }));
    expect(error.message).toBe(
      'invalid configuration: UNKNOWN_SEVERITY_PRIORITY: must be P1 to P5, or empty for the highest priority SEVERITY_PRIORITIES uses',
    );
  });

  it('refuses a ceiling below the number of invocations sharing it', () => {
    const error = configErrorOf(() => readDeliverConfig({ ...DELIVER_ENV, SQUADCAST_MAX_PER_MINUTE: '2', DELIVERY_MAX_INVOCATIONS: '3' }));
    expect(error.message).toContain('SQUADCAST_MAX_PER_MINUTE');
    expect(readDeliverConfig({ ...DELIVER_ENV, SQUADCAST_MAX_PER_MINUTE: '3', DELIVERY_MAX_INVOCATIONS: '3' }).maxPerMinute).toBe(3);
  });

  it('refuses a first retry step above the largest', () => {
    const error = configErrorOf(() =>
      readDeliverConfig({ ...DELIVER_ENV, DELIVERY_RETRY_BASE_SECONDS: '301', DELIVERY_RETRY_MAX_SECONDS: '300' }),
    );
    expect(error.message).toBe(
      'invalid configuration: DELIVERY_RETRY_BASE_SECONDS: must not be above DELIVERY_RETRY_MAX_SECONDS (the first step would pass the cap)',
    );
    expect(
      readDeliverConfig({ ...DELIVER_ENV, DELIVERY_RETRY_BASE_SECONDS: '300', DELIVERY_RETRY_MAX_SECONDS: '300' }).retryBaseSeconds,
    ).toBe(300);
  });

  it('refuses a largest retry step the stalled-alert alarms cannot cover, naming the setting and the limit', () => {
    const error = configErrorOf(() =>
      readDeliverConfig({ ...DELIVER_ENV, DELIVERY_RETRY_MAX_SECONDS: String(MAX_RETRY_STEP_SECONDS + 1) }),
    );
    expect(error.message).toBe(
      'invalid configuration: DELIVERY_RETRY_MAX_SECONDS: at most 300, so that AlertsHeldBackAlarm and SquadcastOutageAlarm see a failing ' +
        'alert within 15 minutes, and stay in ALARM until it is delivered (a longer step leaves gaps their 10-minute window cannot cover)',
    );
    expect(readDeliverConfig({ ...DELIVER_ENV, DELIVERY_RETRY_MAX_SECONDS: String(MAX_RETRY_STEP_SECONDS) }).retryMaxSeconds).toBe(300);
  });
});

describe('readStatusConfig', () => {
  it("reads the queues, the table, and deliver's ceiling (default 150)", () => {
    expect(readStatusConfig({ ...QUEUES, LEDGER_TABLE_NAME: 'ledger' })).toEqual({
      alertsQueueUrl: QUEUES.ALERTS_QUEUE_URL,
      deadLetterQueueUrl: QUEUES.DEAD_LETTER_QUEUE_URL,
      ledgerTableName: 'ledger',
      squadcastMaxPerMinute: 150,
    });
    expect(readStatusConfig({ ...QUEUES, LEDGER_TABLE_NAME: 'ledger', SQUADCAST_MAX_PER_MINUTE: '600' }).squadcastMaxPerMinute).toBe(600);
  });

  it('names a missing table', () => {
    expect(configErrorOf(() => readStatusConfig(QUEUES)).message).toBe(
      'invalid configuration: LEDGER_TABLE_NAME: expected non-empty string',
    );
  });

  it('does not need the Squadcast URL or the token', () => {
    expect(() => readStatusConfig({ ...QUEUES, LEDGER_TABLE_NAME: 't' })).not.toThrow();
  });
});

describe('parseSeverities', () => {
  it.each<[string | undefined, number[] | string]>([
    [undefined, [1, 2, 3]],
    ['', [1, 2, 3]],
    [' , ', [1, 2, 3]],
    ['1', [1]],
    ['1,2', [1, 2]],
    ['high, MEDIUM ,low', [1, 2, 3]],
    ['3,3,low', [3]],
    ['1,4', 'entry 2 is not a severity (1, 2, 3, high, medium or low)'],
    ['critical', 'entry 1 is not a severity (1, 2, 3, high, medium or low)'],
  ])('%p', (text, expected) => {
    const parsed = parseSeverities(text);
    expect(parsed.kind === 'valid' ? [...parsed.value].sort() : parsed.problems[0]).toEqual(expected);
  });
});

describe('parsePriorities', () => {
  it.each<[string | undefined, unknown]>([
    [undefined, { 1: 'P1', 2: 'P2', 3: 'P3' }],
    ['', { 1: 'P1', 2: 'P2', 3: 'P3' }],
    ['1=P1,2=P3,3=P5', { 1: 'P1', 2: 'P3', 3: 'P5' }],
    [' high = p2 ', { 1: 'P2', 2: 'P2', 3: 'P3' }],
    ['low=P4', { 1: 'P1', 2: 'P2', 3: 'P4' }],
    ['1=P6', 'entry 1 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)'],
    ['4=P1', 'entry 1 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)'],
    ['1=P1,2', 'entry 2 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)'],
    ['1=P1=P2', 'entry 1 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)'],
  ])('%p', (text, expected) => {
    const parsed = parsePriorities(text);
    expect(parsed.kind === 'valid' ? parsed.value : parsed.problems[0]).toEqual(expected);
  });

  it('does not change the defaults it starts from', () => {
    parsePriorities('1=P5');
    expect(parsePriorities(undefined)).toEqual({ kind: 'valid', value: { 1: 'P1', 2: 'P2', 3: 'P3' } });
  });
});

describe('readTestAlertConfig and readMetricsConfig', () => {
  it('read their keys with local defaults', () => {
    expect(readTestAlertConfig({ ALERTS_QUEUE_URL: 'q' })).toEqual({ alertsQueueUrl: 'q', stage: 'local' });
    expect(readTestAlertConfig({ ALERTS_QUEUE_URL: 'q', RELAY_STAGE: ' prod ' })).toEqual({ alertsQueueUrl: 'q', stage: 'prod' });
    expect(readMetricsConfig({})).toEqual({ namespace: 'ThreatstackSquadcastRelay', stage: 'local', logFormat: 'json' });
    expect(readMetricsConfig({ METRICS_NAMESPACE: 'Custom', RELAY_STAGE: 'dev', LOG_FORMAT: 'human' })).toEqual({
      namespace: 'Custom',
      stage: 'dev',
      logFormat: 'human',
    });
  });

  it('refuses a LOG_FORMAT it does not know, naming the key', () => {
    expect(configErrorOf(() => readMetricsConfig({ LOG_FORMAT: 'yaml' })).message).toContain('LOG_FORMAT');
  });

  it('names a missing queue for the test alert', () => {
    expect(configErrorOf(() => readTestAlertConfig({})).message).toBe('invalid configuration: ALERTS_QUEUE_URL: expected non-empty string');
  });
});
