import { LambdaClient } from '@aws-sdk/client-lambda';
import type { RelayStatus } from '../../lib/status/relay-status';
import { run } from '../../scripts/test-alert';
import { fakeAwsClient } from '../helpers/aws';
import { aRelayStatus } from '../helpers/factories';
import { captureIo, regionOfTest } from './io';

const SENT_AT = '2023-11-14T22:13:20.000Z';

/** The status as test-alert polls it: no incident yet (null), or one at `lastIncidentAt`. */
const aStatus = (lastIncidentAt: string | null, queue = { pending: 1, deadLetter: 0 }): RelayStatus =>
  aRelayStatus({
    active: lastIncidentAt !== null,
    lastIncidentAt,
    incidentsLast30Days: lastIncidentAt === null ? 0 : 1,
    perDay: {},
    queue,
  });

const sent = (severity: number) => ({
  sent: true,
  alertId: 'relay-test-0b6f7d2c-3c1e-4a53-9f0e-2d3c4b5a6978',
  title: 'TEST ALERT from threatstack-squadcast-relay',
  severity,
  queue: 'threatstack-squadcast-relay-prod-alerts',
  messageId: 'm-1',
  sentAt: SENT_AT,
  next: 'deliver sends it to Squadcast within seconds',
});

/** testAlert answers `sent`; status answers each of `statuses` in turn (the last one repeats). */
const fakeLambda = (statuses: RelayStatus[]) => {
  let polls = 0;
  return fakeAwsClient(LambdaClient, (_name, input) => {
    const fn = String(input.FunctionName);
    const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString()) as { severity?: number };
    const answer = fn.endsWith('-testAlert') ? sent(payload.severity ?? 3) : statuses[Math.min(polls++, statuses.length - 1)];
    return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(answer)) };
  });
};

const unusedFetch = (() => Promise.reject(new Error('no fetch expected'))) as unknown as typeof fetch;
const invoked = (lambda: ReturnType<typeof fakeLambda>) =>
  lambda
    .inputsOf<{ FunctionName: string; Payload: Uint8Array }>('InvokeCommand')
    .map((i) => `${i.FunctionName} ${Buffer.from(i.Payload).toString()}`);

describe('npm run test-alert', () => {
  it('invokes testAlert once (severity 3 by default), then polls status until an incident is recorded after the send', async () => {
    const lambda = fakeLambda([
      aStatus(null),
      aStatus('2023-11-14T22:13:19.000Z'),
      aStatus('2023-11-14T22:13:21.500Z', { pending: 0, deadLetter: 0 }),
    ]);
    const { io, text, sleeps } = captureIo();
    expect(await run(['--stage', 'prod'], io, { lambda: () => lambda.client, fetch: unusedFetch, region: regionOfTest })).toBe(0);
    expect(invoked(lambda)).toEqual([
      'threatstack-squadcast-relay-prod-testAlert {"severity":3}',
      'threatstack-squadcast-relay-prod-status {}',
      'threatstack-squadcast-relay-prod-status {}',
      'threatstack-squadcast-relay-prod-status {}',
    ]);
    expect(sleeps).toEqual([5000, 5000]);
    expect(text()).toContain(
      'Queued test alert relay-test-0b6f7d2c-3c1e-4a53-9f0e-2d3c4b5a6978 (severity 3) on threatstack-squadcast-relay-prod-alerts',
    );
    expect(text()).toContain('Delivered: Squadcast accepted an incident at 2023-11-14T22:13:21.500Z. Status: Receiving alerts.');
  });

  it('--severity 1 is passed on; --wait 0 sends and returns without polling', async () => {
    const lambda = fakeLambda([aStatus(null)]);
    const { io, text } = captureIo();
    expect(
      await run(['--stage', 'prod', '--severity', '1', '--wait', '0'], io, {
        lambda: () => lambda.client,
        fetch: unusedFetch,
        region: regionOfTest,
      }),
    ).toBe(0);
    expect(invoked(lambda)).toEqual(['threatstack-squadcast-relay-prod-testAlert {"severity":1}']);
    expect(text()).toContain('(severity 1)');
    expect(text()).toContain('deliver sends it to Squadcast within seconds');
  });

  it('gives up after --wait seconds with exit 1 and says where to look', async () => {
    const lambda = fakeLambda([aStatus(null, { pending: 1, deadLetter: 1 })]);
    const { io, errors, sleeps } = captureIo();
    expect(
      await run(['--stage', 'prod', '--wait', '20'], io, { lambda: () => lambda.client, fetch: unusedFetch, region: regionOfTest }),
    ).toBe(1);
    // Polled at 0, 5, 10, 15 and 20 s: the last poll is at the deadline.
    expect(sleeps).toEqual([5000, 5000, 5000, 5000]);
    expect(invoked(lambda).filter((call) => call.includes('-status '))).toHaveLength(5);
    expect(errors()).toContain('No incident recorded within 20 s (alerts waiting: 1, dead-letter queue: 1).');
    expect(errors()).toContain('correlation_id "relay-test-0b6f7d2c-3c1e-4a53-9f0e-2d3c4b5a6978"');
  });

  it('refuses a severity or a wait out of range before invoking anything', async () => {
    const lambda = fakeLambda([aStatus(null)]);
    const { io } = captureIo();
    const deps = { lambda: () => lambda.client, fetch: unusedFetch, region: regionOfTest };
    await expect(run(['--stage', 'prod', '--severity', '4'], io, deps)).rejects.toThrow('--severity must be a whole number from 1 to 3');
    await expect(run(['--stage', 'prod', '--wait', '901'], io, deps)).rejects.toThrow('--wait must be a whole number from 0 to 900');
    await expect(run(['--severity', '2'], io, deps)).rejects.toThrow('--stage is required');
    expect(lambda.commands()).toHaveLength(0);
  });

  it('--local posts to the local stack and polls its status', async () => {
    const calls: string[] = [];
    let polls = 0;
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url}${init?.body ? ` ${String(init.body)}` : ''}`);
      if (url.includes('/local/test-alert/')) return new Response(JSON.stringify(sent(2)), { status: 200 });
      return new Response(JSON.stringify(polls++ === 0 ? aStatus(null) : aStatus('2023-11-14T22:13:22.000Z')), { status: 200 });
    }) as unknown as typeof fetch;
    const { io, text } = captureIo();
    expect(
      await run(['--local', '--port', '4321', '--token', 'local-token/0123456789', '--severity', '2', '--wait', '30'], io, {
        lambda: () => fakeLambda([]).client,
        fetch: fakeFetch,
      }),
    ).toBe(0);
    expect(calls).toEqual([
      'POST http://127.0.0.1:4321/local/test-alert/local-token%2F0123456789 {"severity":2}',
      'GET http://127.0.0.1:4321/status',
      'GET http://127.0.0.1:4321/status',
    ]);
    expect(text()).toContain('Delivered');
  });

  it('--local names the token, never its value, when the relay refuses it', async () => {
    const fakeFetch = (async () => new Response('{"error":"forbidden"}', { status: 403 })) as unknown as typeof fetch;
    const { io } = captureIo();
    const attempt = run(['--local', '--port', '4321', '--token', 'SENTINEL-wrong-token-0123'], io, {
      lambda: () => fakeLambda([]).client,
      fetch: fakeFetch,
    });
    await expect(attempt).rejects.toThrow("the local relay refused the token: pass the relay's WEBHOOK_TOKEN");
    await expect(attempt).rejects.not.toThrow('SENTINEL');
  });
});
