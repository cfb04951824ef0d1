import type { Context } from 'aws-lambda';
import { ConfigError } from '../../../lib/common/config-error';
import { createJsonLogger } from '../../../lib/telemetry/powertools-logger';
import type { Telemetry } from '../../../lib/telemetry/telemetry';
import { createTelemetry, instrumented } from '../../../lib/telemetry/telemetry';
import { noMetrics } from '../../helpers/fakes';

const aContext = (awsRequestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'threatstack-squadcast-relay-unit-deliver',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:threatstack-squadcast-relay-unit-deliver',
  memoryLimitInMB: '256',
  awsRequestId,
  logGroupName: '/aws/lambda/threatstack-squadcast-relay-unit-deliver',
  logStreamName: '2026/12/01/[$LATEST]abc',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

const setup = () => {
  // Lambda sets this for on-demand containers; Powertools reports a cold start only then.
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  const lines: string[] = [];
  const flushes: string[] = [];
  const telemetry: Telemetry = {
    log: createJsonLogger('deliver', (line) => lines.push(line)),
    metrics: { ...noMetrics, flush: () => void flushes.push('flush') },
  };
  return { telemetry, flushes, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
};

afterEach(() => {
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
});

describe('instrumented', () => {
  it('puts the invocation request id and the cold-start flag on every log line of that invocation', async () => {
    const { telemetry, parsed } = setup();
    const handler = instrumented(telemetry, async (alertId: string) => {
      telemetry.log.info('incident delivered', { alertId });
      telemetry.log.warn('another line');
    });
    await handler('alert-1', aContext('request-1'));
    await handler('alert-2', aContext('request-2'));
    expect(parsed().map((line) => [line.function_request_id, line.cold_start, line.correlation_id ?? null])).toEqual([
      ['request-1', true, 'alert-1'],
      ['request-1', true, null],
      ['request-2', false, 'alert-2'],
      ['request-2', false, null],
    ]);
    expect(parsed()[0]).toEqual(
      expect.objectContaining({ function_name: 'threatstack-squadcast-relay-unit-deliver', function_memory_size: '256' }),
    );
  });

  it('publishes the metrics after the handler resolves, and after it throws', async () => {
    const { telemetry, flushes } = setup();
    await expect(instrumented(telemetry, async (n: number) => n * 2)(21, aContext('r1'))).resolves.toBe(42);
    await expect(
      instrumented(telemetry, async () => {
        throw new Error('boom');
      })(undefined, aContext('r2')),
    ).rejects.toThrow('boom');
    expect(flushes).toEqual(['flush', 'flush']);
  });

  it('logs a throw as one line with the request id, its name and a ConfigError message only, then rethrows it', async () => {
    const { telemetry, parsed } = setup();
    const secretish = 'https://api.squadcast.com/v2/incidents/api/KEY-must-not-be-printed';
    await expect(
      instrumented(telemetry, async () => {
        throw new TypeError(`fetch failed for ${secretish}`);
      })(undefined, aContext('r1')),
    ).rejects.toThrow(TypeError);
    await expect(
      instrumented(telemetry, async () => {
        throw new ConfigError(['SQUADCAST_WEBHOOK_URL_PARAMETER (/p): must be an https URL']);
      })(undefined, aContext('r2')),
    ).rejects.toThrow(ConfigError);
    expect(parsed().map((line) => [line.message, line.function_request_id, line.error, line.detail])).toEqual([
      ['invocation failed', 'r1', 'TypeError', undefined],
      ['invocation failed', 'r2', 'ConfigError', 'invalid configuration: SQUADCAST_WEBHOOK_URL_PARAMETER (/p): must be an https URL'],
    ]);
    expect(JSON.stringify(parsed())).not.toContain('KEY-must-not-be-printed');
  });

  it('runs without a context (the local stack and tests call handlers with an event alone)', async () => {
    const { telemetry, parsed } = setup();
    await instrumented(telemetry, async () => telemetry.log.info('no context'))(undefined);
    expect(parsed()[0]).toEqual(expect.objectContaining({ message: 'no context' }));
    expect(parsed()[0]).not.toHaveProperty('function_request_id');
  });
});

describe('createTelemetry', () => {
  it('names the function as the log service, and publishes metrics under the relay service and the stage', async () => {
    const lines: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line !== ''),
      );
      return true;
    });
    try {
      const telemetry = createTelemetry('ingest', { namespace: 'TestNamespace', stage: 'unit', write: (line) => lines.push(line) });
      telemetry.log.info('hello');
      telemetry.metrics.count('received', 2);
      telemetry.metrics.flush();
    } finally {
      stdout.mockRestore();
    }
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.find((line) => line.message === 'hello')).toEqual(expect.objectContaining({ service: 'ingest' }));
    expect(parsed.find((line) => '_aws' in line)).toEqual(
      expect.objectContaining({ AlertsReceived: 2, service: 'threatstack-squadcast-relay', stage: 'unit' }),
    );
  });
});
