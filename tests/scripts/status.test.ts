import { LambdaClient } from '@aws-sdk/client-lambda';
import { run } from '../../scripts/status';
import { anAwsError, fakeAwsClient } from '../helpers/aws';
import { aRelayStatus } from '../helpers/factories';
import { captureIo, regionOfTest } from './io';

/** A Lambda client whose Invoke answers `payload` (or a function error). */
const lambdaAnswering = (payload: unknown, functionError?: string) =>
  fakeAwsClient(LambdaClient, () => ({
    StatusCode: 200,
    ...(functionError ? { FunctionError: functionError } : {}),
    Payload: new TextEncoder().encode(JSON.stringify(payload)),
  }));

const unusedFetch = (() => Promise.reject(new Error('no fetch expected'))) as unknown as typeof fetch;

describe('npm run status', () => {
  it('invokes <service>-<stage>-status with {} and prints the facts readably', async () => {
    const lambda = lambdaAnswering(aRelayStatus());
    const regions: Array<string | undefined> = [];
    const { io, text } = captureIo();
    const code = await run(['--stage', 'prod', '--region', 'eu-west-1'], io, {
      lambda: (region) => {
        regions.push(region);
        return lambda.client;
      },
      fetch: unusedFetch,
      region: regionOfTest,
    });
    expect(code).toBe(0);
    expect(regions).toEqual(['eu-west-1']);
    expect(lambda.commands()).toHaveLength(1);
    const [invoke] = lambda.inputsOf<{ FunctionName: string; Payload: Uint8Array }>('InvokeCommand');
    expect(invoke?.FunctionName).toBe('threatstack-squadcast-relay-prod-status');
    expect(Buffer.from(invoke?.Payload ?? []).toString()).toBe('{}');
    const printed = text();
    expect(printed).toContain('stage prod (threatstack-squadcast-relay-prod-status)');
    expect(printed).toContain('● Receiving alerts');
    expect(printed).toMatch(/Last incident\s+2023-11-14T20:00:00.000Z \(2 hours ago\)/);
    expect(printed).toMatch(/Incidents, 30 days\s+5\n/);
    expect(printed).toMatch(/Waiting for delivery\s+0\n/);
    expect(printed).toMatch(/Dead-letter queue\s+2: inspect, then npm run redrive/);
    // 30 days, one character each: 1 on 2023-11-01 (a quarter of the busiest), 4 today.
    expect(printed).toContain(`2023-10-16 ${'·'.repeat(16)}▂${'·'.repeat(12)}█ 2023-11-14`);
    expect(printed).toContain('busiest: 4 on 2023-11-14');
    expect(printed).not.toContain('\u001b[');
  });

  it('prints an inactive relay with a hint, and colours the dot on a terminal', async () => {
    const lambda = lambdaAnswering(
      aRelayStatus({
        active: false,
        lastIncidentAt: null,
        incidentsLast30Days: 0,
        perDay: {},
      }),
    );
    const { io, text } = captureIo();
    await run(['--stage', 'dev'], { ...io, color: true }, { lambda: () => lambda.client, fetch: unusedFetch, region: regionOfTest });
    expect(text()).toContain('\u001b[90m●\u001b[0m Inactive (no incident in the last 30 days: send a test alert to turn it active)');
    expect(text()).toMatch(/Last incident\s+never/);
    expect(text()).toContain('no incidents in these days');
  });

  it('says which region it uses, on stderr (stdout stays the answer)', async () => {
    const { io, err } = captureIo();
    await run(['--stage', 'prod', '--json'], io, {
      lambda: () => lambdaAnswering(aRelayStatus()).client,
      fetch: unusedFetch,
      region: regionOfTest,
    });
    expect(err).toEqual(['region us-east-1 (serverless.yml params, where stage prod is deployed)']);
  });

  it('refuses --stage with --local, naming both', async () => {
    const { io } = captureIo();
    await expect(
      run(['--stage', 'prod', '--local'], io, { lambda: () => lambdaAnswering(aRelayStatus()).client, fetch: unusedFetch }),
    ).rejects.toThrow('--stage and --local cannot go together: --local is the npm start stack, --stage a deployed one.');
  });

  it('--json prints the decoded status as JSON', async () => {
    const status = aRelayStatus();
    const { io, text } = captureIo();
    await run(['--stage', 'prod', '--json'], io, {
      lambda: () => lambdaAnswering(status).client,
      fetch: unusedFetch,
      region: regionOfTest,
    });
    expect(JSON.parse(text())).toEqual(status);
  });

  it('needs --stage, and refuses a stage that cannot be part of a resource name', async () => {
    const { io } = captureIo();
    const deps = { lambda: () => lambdaAnswering(aRelayStatus()).client, fetch: unusedFetch, region: regionOfTest };
    await expect(run([], io, deps)).rejects.toThrow(/--stage is required\.\nusage: npm run status/);
    await expect(run(['--stage', 'prod;rm'], io, deps)).rejects.toThrow('--stage must be letters, digits or hyphens');
    await expect(run(['--stage', 'prod', '--bogus'], io, deps)).rejects.toThrow(/Unknown option '--bogus'/);
  });

  it("reports the function's own error, a missing function, and an answer of the wrong shape", async () => {
    const { io } = captureIo();
    const failing = lambdaAnswering(
      { errorType: 'ConfigError', errorMessage: 'invalid configuration: LEDGER_TABLE_NAME: expected non-empty string' },
      'Unhandled',
    );
    await expect(run(['--stage', 'prod'], io, { lambda: () => failing.client, fetch: unusedFetch, region: regionOfTest })).rejects.toThrow(
      'threatstack-squadcast-relay-prod-status failed: ConfigError: invalid configuration: LEDGER_TABLE_NAME: expected non-empty string',
    );
    const missing = fakeAwsClient(LambdaClient, () => {
      throw anAwsError('ResourceNotFoundException');
    });
    await expect(run(['--stage', 'nope'], io, { lambda: () => missing.client, fetch: unusedFetch, region: regionOfTest })).rejects.toThrow(
      'function threatstack-squadcast-relay-nope-status not found: is the stage deployed in this account and region?',
    );
    const old = lambdaAnswering({ source: 'threatstack', active: true });
    await expect(run(['--stage', 'prod'], io, { lambda: () => old.client, fetch: unusedFetch, region: regionOfTest })).rejects.toThrow(
      /unexpected shape \(.*incidentsPerDay.*\); is the deployed version older/,
    );
  });

  it('--local reads GET /status from the local stack, asking for JSON', async () => {
    const requests: Array<{ url: string; accept: string | undefined }> = [];
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      requests.push({ url, accept: (init?.headers as Record<string, string> | undefined)?.accept });
      return new Response(JSON.stringify(aRelayStatus()), { status: 200 });
    }) as unknown as typeof fetch;
    const { io, text } = captureIo();
    expect(await run(['--local', '--port', '4123'], io, { lambda: () => lambdaAnswering({}).client, fetch: fakeFetch })).toBe(0);
    expect(requests).toEqual([{ url: 'http://127.0.0.1:4123/status', accept: 'application/json' }]);
    expect(text()).toContain('local stack on 127.0.0.1:4123');
    const refused = (() => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch;
    await expect(run(['--local', '--port', '4123'], io, { lambda: () => lambdaAnswering({}).client, fetch: refused })).rejects.toThrow(
      'is npm start running?',
    );
  });
});
