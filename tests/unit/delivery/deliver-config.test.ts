import { Secret } from '../../../lib/common/secret';
import { readDeliverConfig } from '../../../lib/delivery/deliver-config';
import { MAX_RETRY_STEP_SECONDS } from '../../../lib/delivery/retry-budget';
import { configErrorOf } from '../../helpers/config-error';
import { SENTINEL } from '../../helpers/factories';

const QUEUES = {
  ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/alerts',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letter',
};
const DELIVER_ENV = { ...QUEUES, LEDGER_TABLE_NAME: 'ledger', SQUADCAST_WEBHOOK_URL: 'http://127.0.0.1:9/x' };

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
