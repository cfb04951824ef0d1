import { SSMClient } from '@aws-sdk/client-ssm';
import { createDeliverRuntime } from '../../../lib/runtime/deliver-runtime';
import { createJsonLogger } from '../../../lib/telemetry/powertools-logger';
import type { Telemetry } from '../../../lib/telemetry/telemetry';
import { noMetrics } from '../../helpers/fakes';

/**
 * The Squadcast URL is checked when deliver starts (its first invocation, once the secret is
 * read): any https host is accepted, EU included; a malformed URL or plain http to a remote host
 * fails with the key's name and never the URL, whose path is the API key. Nothing is sent.
 */
const KEY = 'KEY-5f0c1d2e3a4b-must-not-be-printed';
const ENV = {
  ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-alerts',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-dead-letter',
  LEDGER_TABLE_NAME: 'relay-ledger',
  AWS_REGION: 'us-east-1',
};
const telemetry: Telemetry = { log: createJsonLogger('deliver', () => undefined), metrics: noMetrics };

const start = (env: Record<string, string>) => createDeliverRuntime({ ...ENV, ...env }, { telemetry }).deps();

afterEach(() => jest.restoreAllMocks());

describe('deliver cold start: the Squadcast URL', () => {
  it.each([
    ['US', `https://api.squadcast.com/v2/incidents/api/${KEY}`],
    ['EU', `https://api.eu.squadcast.com/v2/incidents/api/${KEY}`],
    ['a proxy on another port', `https://squadcast-proxy.example.internal:8443/v2/incidents/api/${KEY}`],
    ['local http (npm start)', `http://127.0.0.1:3000/local/squadcast/${KEY}`],
  ])('accepts %s', async (_name, url) => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    await expect(start({ SQUADCAST_WEBHOOK_URL: url })).resolves.toMatchObject({ sink: expect.any(Object) });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it.each([
    ['plain http to a remote host', `http://api.eu.squadcast.com/v2/incidents/api/${KEY}`, 'SQUADCAST_WEBHOOK_URL: must be an https URL'],
    ['a malformed URL', `api.eu.squadcast.com/v2/incidents/api/${KEY}`, 'SQUADCAST_WEBHOOK_URL: is not a valid URL'],
    ['another scheme', `ftp://api.squadcast.com/${KEY}`, 'SQUADCAST_WEBHOOK_URL: must be an https URL'],
  ])('refuses %s, naming the key and never printing the URL', async (_name, url, message) => {
    const failure = start({ SQUADCAST_WEBHOOK_URL: url });
    await expect(failure).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining(message) });
    const error = await failure.then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(`${error.message}\n${error.stack}`).not.toContain(KEY);
  });

  it('checks the URL read from SSM the same way, naming the parameter', async () => {
    const ssm = jest
      .spyOn(SSMClient.prototype, 'send')
      .mockImplementation(async () => ({ Parameter: { Value: `http://api.eu.squadcast.com/v2/incidents/api/${KEY}` } }));
    const failure = start({ SQUADCAST_WEBHOOK_URL_PARAMETER: '/threatstack-squadcast-relay/prod/squadcast-webhook-url' });
    await expect(failure).rejects.toThrow(
      'SQUADCAST_WEBHOOK_URL_PARAMETER (/threatstack-squadcast-relay/prod/squadcast-webhook-url): must be an https URL',
    );
    await expect(failure).rejects.not.toThrow(KEY);
    expect(ssm).toHaveBeenCalledTimes(1);

    ssm.mockImplementation(async () => ({ Parameter: { Value: `https://api.eu.squadcast.com/v2/incidents/api/${KEY}` } }));
    await expect(
      start({ SQUADCAST_WEBHOOK_URL_PARAMETER: '/threatstack-squadcast-relay/prod/squadcast-webhook-url' }),
    ).resolves.toMatchObject({ sink: expect.any(Object) });
  });
});
