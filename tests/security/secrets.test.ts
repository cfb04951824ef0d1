import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { anAlert, anIngestEvent, anSqsEvent, anSqsRecord, aQueuedAlertBody } from '../helpers/factories';
import { FakeSsmService, fakeWallClock } from '../helpers/fake-ssm';
import { BASE_LAMBDA_ENV, captureOutput, loadHandler } from '../helpers/load-handler';

/**
 * The webhook token and the Squadcast key never appear in a log line, an answer or an error,
 * whatever goes wrong: bad configuration found at cold start or at first use, refusals, a
 * Squadcast that answers errors (and echoes the key back), a queue that is down.
 * Every byte the handlers write, every answer and every thrown error is searched.
 */
const TOKEN = 'SeCrEt-webhook-token-5b8e2a7c1d';
const KEY = 'SeCrEtSquadcastKey9f3e1a7b5c';

type IngestModule = typeof import('../../handlers/ingest');
type DeliverModule = typeof import('../../handlers/deliver');

/** Everything observable from one scenario: output, answers, thrown errors (message and stack). */
const observe = async (run: () => Promise<unknown>): Promise<string> => {
  const output = captureOutput();
  const seen: string[] = [];
  try {
    seen.push(JSON.stringify(await run()));
  } catch (error) {
    seen.push(String((error as Error)?.message), String((error as Error)?.stack), JSON.stringify(error));
  } finally {
    output.restore();
  }
  return [output.text(), ...seen].join('\n');
};

const expectNoSecret = (text: string, ...secrets: string[]): void => {
  for (const secret of [TOKEN, KEY, ...secrets]) expect(text).not.toContain(secret);
};

/** A Squadcast that answers `status` with a body quoting the request's path, key included. */
let squadcast: Server;
let squadcastPort = 0;
let squadcastStatus = 500;
const realFetch = globalThis.fetch;
beforeAll(async () => {
  // A guard, not a stub: should a bad URL ever get past the configuration check, no request leaves the machine.
  globalThis.fetch = (input, init) => {
    const { hostname } = new URL(input instanceof Request ? input.url : String(input));
    if (hostname !== '127.0.0.1')
      return Promise.reject(Object.assign(new TypeError('test guard: non-loopback fetch'), { cause: { code: 'TEST_GUARD' } }));
    return realFetch(input, init);
  };
  squadcast = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      // connection: close, so that no case reuses a socket the server closed while the machine was busy (ECONNRESET).
      response.writeHead(squadcastStatus, {
        'content-type': 'application/json',
        location: `http://127.0.0.1/${request.url}`,
        connection: 'close',
      });
      response.end(JSON.stringify({ error: `no such key ${request.url}` }));
    });
  });
  await new Promise<void>((resolve) => squadcast.listen(0, '127.0.0.1', resolve));
  squadcastPort = (squadcast.address() as AddressInfo).port;
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  await new Promise<void>((resolve) => squadcast.close(() => resolve()));
});

describe('ingest', () => {
  test.each<[string, Record<string, string | undefined>]>([
    ['a token too short, found at first use', { WEBHOOK_TOKEN: 'SeCrEt-short' }],
    ['a token with characters a URL path cannot carry', { WEBHOOK_TOKEN: `${TOKEN}/with space` }],
    ['no queue URL (cold start)', { WEBHOOK_TOKEN: TOKEN, ALERTS_QUEUE_URL: undefined }],
    ['a malformed allowlist (cold start)', { WEBHOOK_TOKEN: TOKEN, ALLOWED_SOURCE_IPS: `${TOKEN},10.0.0.0/99` }],
  ])('bad configuration: %s', async (_name, env) => {
    const text = await observe(async () => {
      const { module } = loadHandler<IngestModule>({ ...BASE_LAMBDA_ENV, ...env }, () => require('../../handlers/ingest'));
      const answer: APIGatewayProxyResult = await module.handler(anIngestEvent({ token: env.WEBHOOK_TOKEN ?? TOKEN }));
      expect(answer.statusCode).toBe(503);
      return answer;
    });
    expect(text).toMatch(/WEBHOOK_TOKEN|ALERTS_QUEUE_URL|ALLOWED_SOURCE_IPS/);
    expectNoSecret(text, 'SeCrEt-short');
  });

  test('refusals and a queue outage', async () => {
    const text = await observe(async () => {
      const loaded = loadHandler<IngestModule>({ ...BASE_LAMBDA_ENV, WEBHOOK_TOKEN: TOKEN }, () => require('../../handlers/ingest'));
      const answers: APIGatewayProxyResult[] = [];
      // A near miss of the real token must not be logged either: it gives most of it away.
      answers.push(await loaded.module.handler(anIngestEvent({ token: `${TOKEN.slice(0, -1)}X` })));
      answers.push(await loaded.module.handler(anIngestEvent({ token: TOKEN, sourceIp: '203.0.113.9' })));
      answers.push(await loaded.module.handler(anIngestEvent({ token: TOKEN, body: '{"alerts": [' })));
      loaded.sqsSend.mockImplementation(async () => {
        throw Object.assign(new Error(`ServiceUnavailable for ${TOKEN}`), { name: 'ServiceUnavailable' });
      });
      answers.push(await loaded.module.handler(anIngestEvent({ token: TOKEN, body: JSON.stringify({ alerts: [anAlert()] }) })));
      expect(answers.map((a) => a.statusCode)).toEqual([403, 403, 400, 503]);
      return answers;
    });
    expectNoSecret(text, `${TOKEN.slice(0, -1)}X`);
  });
});

describe('ingest, tokens from SSM', () => {
  test('a rotation, a bad value put in SSM and an SSM outage whose errors quote the tokens', async () => {
    const PREVIOUS = 'SeCrEt-previous-token-3c9d0e1f';
    const BAD = 'SeCrEt bad value';
    const clock = fakeWallClock(Date.parse('2026-12-01T10:00:00Z'));
    try {
      const text = await observe(async () => {
        let ssmModule: typeof import('@aws-sdk/client-ssm') | undefined;
        const loaded = loadHandler<IngestModule>(
          {
            ...BASE_LAMBDA_ENV,
            WEBHOOK_TOKEN: undefined,
            WEBHOOK_TOKEN_PARAMETER: '/relay/unit/webhook-token',
            WEBHOOK_TOKEN_PREVIOUS_PARAMETER: '/relay/unit/webhook-token-previous',
          },
          () => {
            ssmModule = require('@aws-sdk/client-ssm');
            return require('../../handlers/ingest');
          },
        );
        if (ssmModule === undefined) throw new Error('no SSM module');
        loaded.sqsSend.mockImplementation(async () => ({ Successful: [{ Id: '0' }], Failed: [] }));
        const ssm = new FakeSsmService().serve(loaded.ssmSend, ssmModule);
        ssm.put('/relay/unit/webhook-token', TOKEN);
        ssm.put('/relay/unit/webhook-token-previous', PREVIOUS);
        const statuses: number[] = [];
        const call = async (token: string) => statuses.push((await loaded.module.handler(anIngestEvent({ token }))).statusCode);
        await call(TOKEN);
        await call(PREVIOUS);
        await call(`${PREVIOUS.slice(0, -1)}X`);
        ssm.put('/relay/unit/webhook-token', BAD);
        clock.advance(301);
        await call(TOKEN);
        ssm.failWith(() => Object.assign(new Error(`ThrottlingException reading ${TOKEN} ${PREVIOUS}`), { name: 'ThrottlingException' }));
        clock.advance(301);
        await call(PREVIOUS);
        expect(statuses).toEqual([200, 200, 403, 200, 200]);
        return statuses;
      });
      expect(text).toContain('secret parameter refused; not used');
      expect(text).toContain('secret parameter could not be read');
      expectNoSecret(text, PREVIOUS, BAD, `${PREVIOUS.slice(0, -1)}X`);
    } finally {
      clock.restore();
    }
  });
});

describe('deliver', () => {
  const deliverEnv = (url: string): Record<string, string> => ({
    ...BASE_LAMBDA_ENV,
    SQUADCAST_WEBHOOK_URL: url,
    SQUADCAST_TIMEOUT_MS: '2000',
  });
  const invoke = async (url: string, status = 202): Promise<string> =>
    observe(async () => {
      squadcastStatus = status;
      const loaded = loadHandler<DeliverModule>(deliverEnv(url), () => require('../../handlers/deliver'));
      loaded.dynamodbSend.mockImplementation(async () => ({}));
      loaded.sqsSend.mockImplementation(async () => ({ Successful: [{ Id: '0' }], Failed: [] }));
      const event: SQSEvent = anSqsEvent([anSqsRecord({ body: aQueuedAlertBody(anAlert()) })]);
      const response: SQSBatchResponse = await loaded.module.handler(event);
      return response;
    });

  test.each([
    ['plain http to another host', `http://squadcast.example.com/v2/incidents/api/${KEY}`],
    ['not a URL', `api.squadcast.com/v2/incidents/api/${KEY}`],
    ['another scheme', `ftp://api.squadcast.com/v2/incidents/api/${KEY}`],
    ['credentials in the URL', `https://relay:${KEY}@api.squadcast.com/v2/incidents/api/x`],
  ])('bad Squadcast URL (%s): the invocation fails naming the key, never the value', async (_name, url) => {
    const text = await invoke(url);
    expect(text).toContain('SQUADCAST_WEBHOOK_URL');
    expect(text).not.toContain('TEST_GUARD');
    expectNoSecret(text);
  });

  test.each([400, 401, 404, 413, 429, 500, 301])('Squadcast answers %p with the key in its body and headers', async (status) => {
    const text = await invoke(`http://127.0.0.1:${squadcastPort}/v2/incidents/api/${KEY}`, status);
    expect(text).toContain(`Squadcast answered ${status}`);
    expectNoSecret(text);
  });

  test('Squadcast unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const text = await invoke(`http://127.0.0.1:${port}/v2/incidents/api/${KEY}`);
    expect(text).toContain('network error (ECONNREFUSED)');
    expectNoSecret(text);
  });
});
