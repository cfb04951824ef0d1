import { LambdaClient } from '@aws-sdk/client-lambda';
import type { RelayStatus } from '../../lib/status/relay-status';
import { run } from '../../scripts/test-alert';
import { fakeAwsClient } from '../helpers/aws';
import { aRelayStatus } from '../helpers/factories';
import { captureIo, regionOfTest } from './io';

const SENT_AT = '2023-11-14T22:13:20.000Z';

const ALERT_ID = 'relay-test-0b6f7d2c-3c1e-4a53-9f0e-2d3c4b5a6978';

/**
 * The status as test-alert polls it: the latest incident (anyone's) at `lastIncidentAt`, and what
 * the ledger says of the test alert itself (`alert`).
 */
const aStatus = (
  lastIncidentAt: string | null,
  queue = { pending: 1, deadLetter: 0 },
  alert: Omit<NonNullable<RelayStatus['alert']>, 'id'> = { state: 'not-recorded' },
): RelayStatus => ({
  ...aRelayStatus({
    active: lastIncidentAt !== null,
    lastIncidentAt,
    incidentsLast30Days: lastIncidentAt === null ? 0 : 1,
    perDay: {},
    queue,
  }),
  squadcastMaxPerMinute: 120,
  alert: { id: ALERT_ID, ...alert },
});
const DELIVERED = { state: 'delivered', deliveredAt: '2023-11-14T22:13:21.500Z' } as const;

const sent = (severity: number) => ({
  sent: true,
  alertId: ALERT_ID,
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
  it('invokes testAlert once (severity 3 by default), then asks the status about that alert id until its incident is recorded', async () => {
    const lambda = fakeLambda([
      aStatus(null),
      aStatus('2023-11-14T22:13:19.000Z', { pending: 1, deadLetter: 0 }, { state: 'in-flight' }),
      aStatus('2023-11-14T22:13:21.500Z', { pending: 0, deadLetter: 0 }, DELIVERED),
    ]);
    const { io, text, sleeps } = captureIo();
    expect(await run(['--stage', 'prod'], io, { lambda: () => lambda.client, fetch: unusedFetch, region: regionOfTest })).toBe(0);
    expect(invoked(lambda)).toEqual([
      'threatstack-squadcast-relay-prod-testAlert {"severity":3}',
      ...Array.from({ length: 3 }, () => `threatstack-squadcast-relay-prod-status {"alertId":"${ALERT_ID}"}`),
    ]);
    expect(sleeps).toEqual([5000, 5000]);
    expect(text()).toContain(`Queued test alert ${ALERT_ID} (severity 3) on threatstack-squadcast-relay-prod-alerts`);
    expect(text()).toContain(`Delivered: Squadcast accepted test alert ${ALERT_ID} at 2023-11-14T22:13:21.500Z. Status: Receiving alerts.`);
  });

  it("never says Delivered for another alert's incident: behind a backlog of 400 at 120 a minute, it says what it waits behind", async () => {
    // Other alerts are delivered after the send (lastIncidentAt moves on); this one is still queued.
    const lambda = fakeLambda([
      aStatus('2023-11-14T22:13:25.000Z', { pending: 400, deadLetter: 0 }),
      aStatus('2023-11-14T22:13:30.000Z', { pending: 390, deadLetter: 0 }),
    ]);
    const { io, text, errors } = captureIo();
    expect(
      await run(['--stage', 'prod', '--wait', '20'], io, { lambda: () => lambda.client, fetch: unusedFetch, region: regionOfTest }),
    ).toBe(1);
    expect(text()).not.toContain('Delivered');
    expect(text()).toContain(
      'Queued, not tried yet: 399 other alerts in the queue; deliver sends at most 120 a minute, about 4 min for those.',
    );
    expect(text()).toContain(
      'Queued, not tried yet: 389 other alerts in the queue; deliver sends at most 120 a minute, about 4 min for those.',
    );
    expect(errors()).toContain('Not delivered within 20 s (alerts waiting: 390, dead-letter queue: 0).');
  });

  it('says why Squadcast failed it while deliver retries, and stops at once when it is dead-lettered', async () => {
    const lambda = fakeLambda([
      aStatus(null, { pending: 1, deadLetter: 0 }, { state: 'failed', failingSince: SENT_AT, lastFailure: 'Squadcast answered 503' }),
      aStatus(null, { pending: 0, deadLetter: 1 }, { state: 'dead-lettered', lastFailure: 'Squadcast answered 401' }),
    ]);
    const { io, text, errors } = captureIo();
    expect(await run(['--stage', 'prod'], io, { lambda: () => lambda.client, fetch: unusedFetch, region: regionOfTest })).toBe(1);
    expect(text()).toContain('Squadcast failed it (Squadcast answered 503); deliver tries it again.');
    expect(errors()).toContain('Dead-lettered: Squadcast answered 401. npm run dead-letters lists it with the reason.');
    expect(invoked(lambda).filter((call) => call.includes('-status '))).toHaveLength(2);
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
    expect(errors()).toContain('Not delivered within 20 s (alerts waiting: 1, dead-letter queue: 1).');
    expect(errors()).toContain(`correlation_id "${ALERT_ID}"`);
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
      return new Response(JSON.stringify(polls++ === 0 ? aStatus(null) : aStatus('2023-11-14T22:13:22.000Z', undefined, DELIVERED)), {
        status: 200,
      });
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
      `GET http://127.0.0.1:4321/status?alert=${ALERT_ID}`,
      `GET http://127.0.0.1:4321/status?alert=${ALERT_ID}`,
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
