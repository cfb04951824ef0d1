import { ConfigError } from '../../../lib/common/config-error';
import { Secret } from '../../../lib/common/secret';
import { readIngestConfig, readMetricsConfig, readStatusConfig, readTestAlertConfig } from '../../../lib/config/env';
import { readDeliverConfig } from '../../../lib/delivery/deliver-config';
import { configErrorOf } from '../../helpers/config-error';
import { SENTINEL } from '../../helpers/factories';

const QUEUES = {
  ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/alerts',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letter',
};
const INGEST_ENV = { ...QUEUES, WEBHOOK_TOKEN: 'token-0123456789abcdef' };
const DELIVER_ENV = { ...QUEUES, LEDGER_TABLE_NAME: 'ledger', SQUADCAST_WEBHOOK_URL: 'http://127.0.0.1:9/x' };

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
