import type { OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Secret } from '../../lib/common/secret';
import type { LocalHttpServer, LocalRoutes } from '../../local/http-server';
import { foreignRequest, startHttpServer } from '../../local/http-server';
import { deferred } from '../helpers/fakes';

/**
 * The local HTTP server in-process, spoken to over real sockets: who may drive it (only its own
 * origin, by its own host names), the token on the test-alert route, slow clients dropped, and
 * how it starts and stops serving.
 */
const TOKEN = 'http-server-token-0123456789';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

const calls: string[] = [];
const routes: LocalRoutes = {
  ingest: async (event) => {
    calls.push(`ingest ${event.path}`);
    return { statusCode: 200, body: '{"accepted":0}' };
  },
  status: async (request) => {
    calls.push(`status ${JSON.stringify(request)}`);
    return { source: 'threatstack' } as never;
  },
  testAlert: {
    token: new Secret(TOKEN),
    invoke: async (event) => {
      calls.push(`testAlert ${JSON.stringify(event)}`);
      return { sent: true };
    },
  },
};

const servers: LocalHttpServer[] = [];
const start = async (options: Partial<Parameters<typeof startHttpServer>[0]> = {}): Promise<LocalHttpServer> => {
  const server = await startHttpServer({ port: 0, onError: () => undefined, ...options });
  servers.push(server);
  return server;
};

afterEach(() => {
  calls.length = 0;
  for (const server of servers.splice(0)) server.close();
});

const send = (
  server: LocalHttpServer,
  path: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: string } = {},
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method: options.method ?? 'POST', headers: options.headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: response.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body ?? (options.method === 'GET' ? undefined : '{}'));
  });

describe('only the relay’s own origin may drive it', () => {
  it('refuses a Host that is not the relay (DNS rebinding) and an Origin that is not its own, before any route runs', async () => {
    const server = await start();
    server.open(routes);
    const port = server.port;
    const cases: Array<[string, OutgoingHttpHeaders, number]> = [
      ['127.0.0.1 with the port', { host: `127.0.0.1:${port}` }, 200],
      ['localhost with the port', { host: `localhost:${port}` }, 200],
      ['LOCALHOST in capitals', { host: `LOCALHOST:${port}` }, 200],
      ['[::1] with the port', { host: `[::1]:${port}` }, 200],
      ['its own origin', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` }, 200],
      ['its own origin by name', { host: `localhost:${port}`, origin: `http://localhost:${port}` }, 200],
      ['a rebound name', { host: `attacker.example:${port}` }, 403],
      ['a rebound name without port', { host: 'attacker.example' }, 403],
      ['127.0.0.1 without the port', { host: '127.0.0.1' }, 403],
      ['another port', { host: `127.0.0.1:${port + 1}` }, 403],
      ['0.0.0.0', { host: `0.0.0.0:${port}` }, 403],
      ['a web page elsewhere', { host: `127.0.0.1:${port}`, origin: 'https://attacker.example' }, 403],
      ['a page on another local port', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port + 1}` }, 403],
      ['an opaque origin (sandboxed frame, file://)', { host: `127.0.0.1:${port}`, origin: 'null' }, 403],
      ['https on the same host', { host: `127.0.0.1:${port}`, origin: `https://127.0.0.1:${port}` }, 403],
      ['an origin with a path trick', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}.attacker.example` }, 403],
    ];
    for (const [what, headers, status] of cases) {
      const answer = await send(server, `/threatstack/${TOKEN}`, { headers });
      expect({ what, status: answer.status }).toEqual({ what, status });
      if (status === 403) expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(/^forbidden: /) });
    }
    expect(calls.filter((call) => call.startsWith('ingest'))).toHaveLength(cases.filter(([, , status]) => status === 200).length);
    // GET routes too: another site's page cannot read the status or the incidents by rebinding a name.
    expect((await send(server, '/status', { method: 'GET', headers: { host: 'attacker.example' } })).status).toBe(403);
    expect(calls).not.toContain('status');
  });

  it('foreignRequest says why, and accepts a request with no Origin (curl, scripts)', () => {
    expect(foreignRequest({ host: '127.0.0.1:3000' }, 3000)).toBeUndefined();
    expect(foreignRequest({}, 3000)).toMatch(/Host/);
    expect(foreignRequest({ host: '127.0.0.1:3000', origin: 'http://evil.example' }, 3000)).toMatch(/other origins/);
  });

  it('POST /local/test-alert needs the webhook token in its path; without it, nothing is queued', async () => {
    const server = await start();
    server.open(routes);
    for (const path of [
      '/local/test-alert',
      '/local/test-alert/',
      `/local/test-alert/${TOKEN}x`,
      `/local/test-alert/${TOKEN.toUpperCase()}`,
      '/local/test-alert/%E0%A4%A',
    ]) {
      const answer = await send(server, path, { body: '{"severity":1}' });
      expect({ path, status: answer.status }).toEqual({ path, status: 403 });
      expect(answer.body).not.toContain(TOKEN);
    }
    expect(calls).toEqual([]);
    const answer = await send(server, `/local/test-alert/${TOKEN}`, { body: '{"severity":1}' });
    expect(answer.status).toBe(200);
    expect(calls).toEqual(['testAlert {"severity":1}']);
    // During a rotation the previous token opens it too, as it opens the webhook.
    server.open({
      ...routes,
      testAlert: { ...(routes.testAlert as NonNullable<LocalRoutes['testAlert']>), previousToken: new Secret(`${TOKEN}-old`) },
    });
    expect((await send(server, `/local/test-alert/${TOKEN}-old`)).status).toBe(200);
    expect((await send(server, `/local/test-alert/${TOKEN}-older`)).status).toBe(403);
  });
});

describe('slow clients are dropped', () => {
  /** Opens a raw connection, writes `head`, then nothing more; resolves with what the server wrote once it closes. */
  const stall = (server: LocalHttpServer, head: string): Promise<{ answer: string; closedAfterMs: number }> =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = connect(server.port, '127.0.0.1', () => socket.write(head));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      // The server may close while a late write of `head` is still arriving (a busy machine): the
      // reset that follows is that close; what it wrote before is still checked.
      socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
      socket.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
    });

  it('a body trickled slower than the request timeout gets 408 and its connection closed; the route never sees it', async () => {
    // Timeouts long enough that a loaded machine has written the head before they end.
    const server = await start({ requestTimeoutMs: 1_500, headersTimeoutMs: 1_000, checkIntervalMs: 50 });
    server.open(routes);
    const slowBody = await stall(
      server,
      `POST /threatstack/${TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 1000\r\n\r\n{"alerts":[`,
    );
    const slowHeaders = await stall(server, `POST /threatstack/${TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
    console.log(
      `slow clients: body dropped after ${slowBody.closedAfterMs} ms (request timeout 1500), headers dropped after ${slowHeaders.closedAfterMs} ms (headers timeout 1000)`,
    );
    expect(slowBody.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(slowHeaders.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(calls).toEqual([]);
  });
});

describe('GET /status', () => {
  it('asks about one alert with ?alert=<id>; refuses an empty id with the parameter named, never echoed', async () => {
    const server = await start();
    server.open(routes);
    expect((await send(server, '/status', { method: 'GET' })).status).toBe(200);
    expect((await send(server, `/status?alert=${encodeURIComponent('relay-test-1/2')}`, { method: 'GET' })).status).toBe(200);
    expect(calls).toEqual(['status {}', 'status {"alertId":"relay-test-1/2"}']);
    const refused = await send(server, `/status?alert=${'x'.repeat(1_025)}`, { method: 'GET' });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('?alert=: alertId');
    expect(refused.body).not.toContain('xxxx');
    expect(calls).toHaveLength(2);
  });
});

describe('starting and stopping', () => {
  it('answers 503 until it is opened, then serves the routes', async () => {
    const server = await start();
    const early = await send(server, `/threatstack/${TOKEN}`, { headers: { host: `127.0.0.1:${server.port}` } });
    expect(early.status).toBe(503);
    expect(JSON.parse(early.body)).toEqual({ error: 'the relay is starting; send it again in a moment' });
    expect(early.headers['retry-after']).toBe('5');
    server.open(routes);
    expect((await send(server, `/threatstack/${TOKEN}`)).status).toBe(200);
  });

  it('a drain lets the request being handled finish and refuses new connections', async () => {
    const server = await start();
    const release = deferred<void>();
    const entered = deferred<void>();
    server.open({
      ...routes,
      ingest: async () => {
        entered.resolve();
        await release.promise;
        return { statusCode: 200, body: '{"accepted":1}' };
      },
    });
    const inFlight = send(server, `/threatstack/${TOKEN}`);
    await entered.promise;
    const drained = server.drain(Date.now() + 5_000);
    await expect(send(server, `/threatstack/${TOKEN}`)).rejects.toThrow(/ECONNREFUSED/);
    release.resolve();
    expect(await drained).toBe(true);
    expect((await inFlight).status).toBe(200);
  });

  it('a drain gives up at its deadline on a request that does not finish', async () => {
    const server = await start();
    const entered = deferred<void>();
    server.open({
      ...routes,
      ingest: async () => {
        entered.resolve();
        return new Promise(() => undefined);
      },
    });
    void send(server, `/threatstack/${TOKEN}`).catch(() => undefined);
    await entered.promise;
    expect(await server.drain(Date.now() + 100)).toBe(false);
  });
});
