import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { anIngestEvent, anSqsEvent, anSqsRecord } from '../helpers/factories';
import { anSsmError, FakeSsmService, fakeWallClock } from '../helpers/fake-ssm';
import type { LoadedHandler, SendSpy } from '../helpers/load-handler';
import { BASE_LAMBDA_ENV, captureOutput, loadHandler } from '../helpers/load-handler';

/**
 * Secrets rotate without a redeploy: the real handler modules, loaded as Lambda containers, read
 * their secrets from a fake SSM (at the command level) whose values an operator changes over a fake
 * wall clock. Nothing but Date is faked: Powertools' cache and the relay's clocks read it.
 */
type IngestModule = typeof import('../../handlers/ingest');
type DeliverModule = typeof import('../../handlers/deliver');
type SsmModule = typeof import('@aws-sdk/client-ssm');

const MAX_AGE_SECONDS = 300;
const PREFIX = '/threatstack-squadcast-relay/unit';
const CURRENT = `${PREFIX}/webhook-token`;
const PREVIOUS = `${PREFIX}/webhook-token-previous`;
const SQUADCAST = `${PREFIX}/squadcast-webhook-url`;
const OLD_TOKEN = 'old-token-aaaaaaaaaaaaaaaa';
const NEW_TOKEN = 'new-token-bbbbbbbbbbbbbbbb';

const INGEST_ENV = {
  ...BASE_LAMBDA_ENV,
  WEBHOOK_TOKEN: undefined,
  WEBHOOK_TOKEN_PARAMETER: CURRENT,
  WEBHOOK_TOKEN_PREVIOUS_PARAMETER: PREVIOUS,
  SECRETS_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS),
};

const sqsAccepts = (spy: SendSpy): void => {
  spy.mockImplementation(async (command) => {
    const input = (command as { input: SendMessageBatchCommandInput }).input;
    return { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })), Failed: [] };
  });
};

/** One Lambda container of `handler`: its own module registry, its own SSM client, answered by `ssm`. */
const container = <M>(ssm: FakeSsmService, name: string, env: Record<string, string | undefined>, path: string): LoadedHandler<M> => {
  let ssmModule: SsmModule | undefined;
  const loaded = loadHandler(env, () => {
    ssmModule = require('@aws-sdk/client-ssm') as SsmModule;
    return require(path) as M;
  });
  if (ssmModule === undefined) throw new Error('no SSM module');
  ssm.serve(loaded.ssmSend, ssmModule, name);
  sqsAccepts(loaded.sqsSend);
  return loaded;
};

let output: ReturnType<typeof captureOutput>;
let clock: ReturnType<typeof fakeWallClock>;
beforeEach(() => {
  output = captureOutput();
  clock = fakeWallClock(Date.parse('2026-12-01T10:00:00Z'));
});
afterEach(() => {
  clock.restore();
  output.restore();
});
afterAll(() => jest.restoreAllMocks());

interface Call {
  readonly at: number;
  readonly container: string;
  readonly sent: 'old' | 'new';
  readonly status: number;
  /** `token` on the 'webhook accepted' line: which configured token matched. */
  readonly matched: unknown;
}

/** Two ingest containers behind one API, and Threat Stack posting one batch every 20 s to either. */
const ingestWorld = () => {
  const ssm = new FakeSsmService();
  ssm.put(CURRENT, OLD_TOKEN);
  const containers = (['a', 'b'] as const).map((name) => ({
    name,
    loaded: container<IngestModule>(ssm, name, INGEST_ENV, '../../handlers/ingest'),
  }));
  const calls: Call[] = [];
  const lines: Array<Record<string, unknown>> = [];
  let threatStackSends: 'old' | 'new' = 'old';
  let turn = 0;
  const post = async (index: number, sent: 'old' | 'new'): Promise<Call> => {
    const target = containers[index % containers.length];
    if (target === undefined) throw new Error('no container');
    output.clear();
    const response = await target.loaded.module.handler(anIngestEvent({ token: sent === 'old' ? OLD_TOKEN : NEW_TOKEN }));
    lines.push(...output.lines());
    const accepted = output.lines().find((line) => line.message === 'webhook accepted');
    return { at: clock.elapsed(), container: target.name, sent, status: response.statusCode, matched: accepted?.token };
  };
  return {
    ssm,
    calls,
    /** Every JSON line the containers wrote. */
    lines,
    /** Threat Stack's configured URL now carries the new token (the operator edited it). */
    switchThreatStack: () => {
      threatStackSends = 'new';
    },
    /** Threat Stack posts every 20 s for `seconds`, round-robin over the containers. */
    run: async (seconds: number): Promise<void> => {
      for (let elapsed = 0; elapsed < seconds; elapsed += 20) {
        clock.advance(20);
        calls.push(await post(turn++, threatStackSends));
      }
    },
    /** One call to each container with `sent`, outside Threat Stack's traffic (a probe). */
    probe: async (sent: 'old' | 'new'): Promise<number[]> => [(await post(0, sent)).status, (await post(1, sent)).status],
  };
};

describe('webhook token rotation, in the order of the operator guide', () => {
  it('accepts every call Threat Stack makes throughout, with no new container, and the logs show when the previous token can go', async () => {
    const world = ingestWorld();
    const { ssm } = world;
    await world.run(120);

    // 1. Put the current value into -previous; wait maxAge, so that every container knows it.
    ssm.put(PREVIOUS, OLD_TOKEN);
    await world.run(MAX_AGE_SECONDS + 20);
    // 2. Put a new current value; wait maxAge, so that every container accepts it.
    ssm.put(CURRENT, NEW_TOKEN);
    await world.run(MAX_AGE_SECONDS + 20);
    expect(await world.probe('new')).toEqual([200, 200]);
    const switchedAt = clock.elapsed();
    // 3. Edit the URL in Threat Stack.
    world.switchThreatStack();
    await world.run(120);
    // 4. The logs: `previous` matched only until the switch; only `current` since.
    const threatStackCalls = world.calls.filter((call) => call.at > 0);
    expect(threatStackCalls.filter((call) => call.matched === 'previous').every((call) => call.at <= switchedAt)).toBe(true);
    expect(threatStackCalls.filter((call) => call.at > switchedAt).map((call) => call.matched)).toEqual(
      threatStackCalls.filter((call) => call.at > switchedAt).map(() => 'current'),
    );
    expect(threatStackCalls.some((call) => call.matched === 'previous')).toBe(true);
    // 5. Delete -previous; after maxAge the old token is refused everywhere.
    ssm.delete(PREVIOUS);
    await world.run(MAX_AGE_SECONDS + 20);
    expect(await world.probe('old')).toEqual([403, 403]);
    expect(await world.probe('new')).toEqual([200, 200]);

    // Every call Threat Stack made was accepted: no alert refused during the rotation.
    const refused = world.calls.filter((call) => call.status !== 200);
    expect(refused).toEqual([]);
    expect(world.calls.length).toBeGreaterThan(50);
    // SSM is read once per parameter, container and maxAge (plus the first read), not per invocation.
    const elapsed = clock.elapsed();
    for (const name of ['a', 'b']) {
      expect(ssm.reads(name).length).toBeLessThanOrEqual(2 * (Math.ceil(elapsed / MAX_AGE_SECONDS) + 1));
    }
    expect(ssm.allDecrypted()).toBe(true);
    // Every line every container wrote: which token matched, never a token.
    expect(world.lines.length).toBeGreaterThan(world.calls.length);
    expect(JSON.stringify(world.lines)).not.toContain(OLD_TOKEN);
    expect(JSON.stringify(world.lines)).not.toContain(NEW_TOKEN);
    output.restore();
    console.log(
      `token rotation over ${elapsed} s of fake time: ${world.calls.length} Threat Stack calls, ${refused.length} refused; ` +
        `matched previous ${world.calls.filter((c) => c.matched === 'previous').length}; ` +
        `SSM reads per container ${ssm.reads('a').length} / ${ssm.reads('b').length} for ${world.calls.length / 2 + 4} invocations each`,
    );
  });

  it('refuses Threat Stack (403) when the URL is edited before maxAge has passed: why the guide says wait', async () => {
    const world = ingestWorld();
    await world.run(60);
    world.ssm.put(PREVIOUS, OLD_TOKEN);
    world.ssm.put(CURRENT, NEW_TOKEN);
    world.switchThreatStack();
    await world.run(60);
    expect(world.calls.filter((call) => call.sent === 'new').map((call) => call.status)).toContain(403);
  });

  it('refuses the old token once the new one is read if there is no previous token: why step 1 exists', async () => {
    const world = ingestWorld();
    await world.run(60);
    world.ssm.put(CURRENT, NEW_TOKEN);
    await world.run(MAX_AGE_SECONDS + 20);
    expect(world.calls.at(-1)).toEqual(expect.objectContaining({ sent: 'old', status: 403 }));
  });
});

describe('a token withdrawn or changed takes effect within maxAge in every container (simulated clock)', () => {
  /** Per container: the last call at `from` or later answered as before, and the first that was not, in seconds after `from`. */
  const turnover = (calls: readonly Call[], from: number, before: number) =>
    ['a', 'b'].map((name) => {
      const after = calls.filter((call) => call.container === name && call.at > from);
      return {
        container: name,
        lastAsBefore: Math.max(0, ...after.filter((call) => call.status === before).map((call) => call.at - from)),
        firstChanged: after.find((call) => call.status !== before)?.at ?? Number.NaN,
      };
    });

  it('the current token parameter deleted: no stale token, 503 (send again) and SecretReadFailed in every container within maxAge', async () => {
    const world = ingestWorld();
    await world.run(120);
    const deletedAt = clock.elapsed();
    world.ssm.delete(CURRENT);
    await world.run(MAX_AGE_SECONDS + 60);
    const each = turnover(world.calls, deletedAt, 200);
    for (const { lastAsBefore, firstChanged } of each) {
      expect(lastAsBefore).toBeLessThanOrEqual(MAX_AGE_SECONDS);
      expect(firstChanged - deletedAt).toBeLessThanOrEqual(MAX_AGE_SECONDS + 20);
    }
    // Every call since is 503 (a server fault, which Threat Stack sends again), never 403 as if the caller were wrong.
    const since = world.calls.filter((call) => call.at > deletedAt + MAX_AGE_SECONDS);
    expect(since.map((call) => call.status)).toEqual(since.map(() => 503));
    expect(world.lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'secret parameter not found; nothing is used until it is put back',
        secret: 'WEBHOOK_TOKEN',
        parameter: CURRENT,
      }),
    );
    expect(world.lines.filter((line) => line.SecretReadFailed === 1).length).toBeGreaterThanOrEqual(2);
    // Put back: accepted again within maxAge (the absence is cached that long).
    world.ssm.put(CURRENT, OLD_TOKEN);
    const restoredAt = clock.elapsed();
    await world.run(MAX_AGE_SECONDS + 20);
    expect(world.calls.slice(-2).map((call) => call.status)).toEqual([200, 200]);
    output.restore();
    console.log(
      `token parameter deleted: 200 last ${each.map((c) => `${c.lastAsBefore} s`).join(' / ')} after the deletion, ` +
        `503 from ${each.map((c) => `${c.firstChanged - deletedAt} s`).join(' / ')} (containers a / b, maxAge ${MAX_AGE_SECONDS} s); ` +
        `200 again ${turnover(world.calls, restoredAt, 503)
          .map((c) => `${c.firstChanged - restoredAt} s`)
          .join(' / ')} after it was put back`,
    );
  });

  it('the current token changed (no previous): the old one is refused in every container within maxAge', async () => {
    const world = ingestWorld();
    await world.run(120);
    const changedAt = clock.elapsed();
    world.ssm.put(CURRENT, NEW_TOKEN);
    await world.run(MAX_AGE_SECONDS + 60);
    const each = turnover(world.calls, changedAt, 200);
    for (const { lastAsBefore, firstChanged } of each) {
      expect(lastAsBefore).toBeLessThanOrEqual(MAX_AGE_SECONDS);
      expect(firstChanged - changedAt).toBeLessThanOrEqual(MAX_AGE_SECONDS + 20);
    }
    expect(world.calls.slice(-2).map((call) => call.status)).toEqual([403, 403]);
    output.restore();
    console.log(
      `token changed: the old one accepted last ${each.map((c) => `${c.lastAsBefore} s`).join(' / ')} after the change, ` +
        `refused from ${each.map((c) => `${c.firstChanged - changedAt} s`).join(' / ')} (containers a / b, maxAge ${MAX_AGE_SECONDS} s)`,
    );
  });
});

describe('an SSM failure after the cache has expired', () => {
  it('keeps accepting with the last good token and warns, then 503 once it has failed for over an hour; recovers when SSM does', async () => {
    const world = ingestWorld();
    // Both containers warm (a container that never read the token cannot fall back: 503).
    await world.run(40);
    world.ssm.failWith(() => anSsmError('ThrottlingException'));
    await world.run(MAX_AGE_SECONDS + 3_600 - 80);
    // Each container's cache expired after 5 minutes; its refreshes have failed since (almost an
    // hour), and it has kept answering 200 with the token it read last.
    expect(world.calls.map((call) => call.status)).toEqual(world.calls.map(() => 200));
    const warnings = world.lines.filter((line) => line.message === 'secret parameter could not be read');
    expect(warnings[0]).toEqual(
      expect.objectContaining({
        level: 'WARN',
        service: 'ingest',
        secret: 'WEBHOOK_TOKEN',
        parameter: CURRENT,
        reason: 'GetParameterError: ThrottlingException',
        using: 'the last value read',
      }),
    );
    // Past an hour of failures, each container refuses to go on with a stale token.
    await world.run(160);
    expect(world.calls.slice(-2).map((call) => call.status)).toEqual([503, 503]);
    world.ssm.recover();
    await world.run(40);
    expect(world.calls.slice(-2).map((call) => call.status)).toEqual([200, 200]);
    expect(world.lines.filter((line) => line.message === 'secret parameter read again').length).toBeGreaterThan(0);
  });
});

describe('Squadcast URL rotation (deliver)', () => {
  const URL_ONE = 'https://api.squadcast.com/v2/incidents/api/KEY-ONE-must-not-be-printed';
  const URL_TWO = 'https://api.eu.squadcast.com/v2/incidents/api/KEY-TWO-must-not-be-printed';
  const DELIVER_ENV = {
    ...BASE_LAMBDA_ENV,
    SQUADCAST_WEBHOOK_URL: undefined,
    SQUADCAST_WEBHOOK_URL_PARAMETER: SQUADCAST,
    SECRETS_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS),
    SQUADCAST_MAX_PER_MINUTE: '100000',
  };
  const fetchMock = jest.fn<Promise<Response>, [string, RequestInit]>(async () => new Response(null, { status: 200 }));
  const realFetch = global.fetch;
  beforeAll(() => {
    global.fetch = fetchMock as unknown as typeof fetch;
  });
  afterAll(() => {
    global.fetch = realFetch;
  });

  it('POSTs to the new URL after maxAge in the same container, and through an SSM outage to the last good one', async () => {
    const ssm = new FakeSsmService();
    ssm.put(SQUADCAST, URL_ONE);
    const loaded = container<DeliverModule>(ssm, 'deliver', DELIVER_ENV, '../../handlers/deliver');
    loaded.dynamodbSend.mockImplementation(async () => ({}));
    const deliverOne = async (): Promise<string | undefined> => {
      fetchMock.mockClear();
      expect(await loaded.module.handler(anSqsEvent([anSqsRecord()]))).toEqual({ batchItemFailures: [] });
      return fetchMock.mock.calls[0]?.[0];
    };
    expect(await deliverOne()).toBe(URL_ONE);
    ssm.put(SQUADCAST, URL_TWO);
    clock.advance(MAX_AGE_SECONDS - 10);
    expect(await deliverOne()).toBe(URL_ONE);
    clock.advance(20);
    expect(await deliverOne()).toBe(URL_TWO);
    ssm.failWith(() => anSsmError('InternalServerError'));
    clock.advance(MAX_AGE_SECONDS + 10);
    expect(await deliverOne()).toBe(URL_TWO);
    expect(ssm.reads('deliver')).toEqual([SQUADCAST, SQUADCAST, SQUADCAST]);
    expect(output.text()).not.toContain('KEY-ONE');
    expect(output.text()).not.toContain('KEY-TWO');
  });
});
