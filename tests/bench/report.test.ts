import { resolveEnvironment } from '../../bench/bundles';
import { bareHandlerSource } from '../../bench/cold-start';
import { dollars, fixed, renderTable, verdict } from '../../bench/report';

describe('renderTable', () => {
  it('pads text left and numbers right, with a rule under the header', () => {
    expect(
      renderTable(
        ['name', 'ms'],
        [
          ['ingest', '9.5'],
          ['deliver', '105.25'],
        ],
      ).split('\n'),
    ).toEqual(['name         ms', '-------  ------', 'ingest      9.5', 'deliver  105.25']);
  });

  it('renders a header alone when there are no rows', () => {
    expect(renderTable(['a', 'b'], [])).toBe('a  b\n-  -');
  });
});

describe('formatting', () => {
  it('prints a missing or infinite value as a dash', () => {
    expect(fixed(undefined)).toBe('—');
    expect(fixed(Number.POSITIVE_INFINITY)).toBe('—');
    expect(fixed(1.234, 1)).toBe('1.2');
  });

  it('passes a ratio at the target, fails one above it', () => {
    expect(verdict(1.25, 1.25)).toBe('meets target');
    expect(verdict(1.26, 1.25)).toBe('MISSES target');
  });

  it('prints dollars with three decimals under one dollar', () => {
    expect(dollars(0.35)).toBe('$0.350');
    expect(dollars(6.151)).toBe('$6.15');
  });
});

describe('resolveEnvironment', () => {
  const environment = {
    ALERTS_QUEUE_URL: { Ref: 'AlertsQueue' },
    ALLOWED_SOURCE_IPS: { 'Fn::Join': [',', ['52.20.173.142', '54.173.79.87']] },
    DELIVERY_CONCURRENCY: '10',
    MEMORY: 256,
  };

  it('keeps literals, joins Fn::Join of literals, and takes intrinsics from the local values', () => {
    expect(resolveEnvironment(environment, { ALERTS_QUEUE_URL: 'http://127.0.0.1:1/q' })).toEqual({
      ALERTS_QUEUE_URL: 'http://127.0.0.1:1/q',
      ALLOWED_SOURCE_IPS: '52.20.173.142,54.173.79.87',
      DELIVERY_CONCURRENCY: '10',
      MEMORY: '256',
    });
  });

  it('lets a local value override a literal', () => {
    expect(resolveEnvironment({ DELIVERY_CONCURRENCY: '10' }, { DELIVERY_CONCURRENCY: '1' })).toEqual({ DELIVERY_CONCURRENCY: '1' });
  });

  it('refuses an intrinsic it cannot resolve, naming the key', () => {
    expect(() => resolveEnvironment(environment, {})).toThrow('ALERTS_QUEUE_URL');
  });
});

describe('bareHandlerSource', () => {
  it('creates the init clients and only imports the later ones', () => {
    const source = bareHandlerSource(['sqs', 'dynamodb'], ['ssm']);
    expect(source).toContain("import { SQSClient } from '@aws-sdk/client-sqs';");
    expect(source).toContain("import { SSMClient } from '@aws-sdk/client-ssm';");
    expect(source).toContain('const clients = [new SQSClient({}), new DynamoDBClient({})];');
    expect(source).toContain('const later = [SSMClient];');
    expect(source).not.toContain('new SSMClient');
  });
});
