import { run } from '../../scripts/send-sample';
import { captureIo } from './io';

const SAMPLE = {
  alerts: [
    { id: 'x', severity: 1 },
    { id: 'y', severity: 2 },
  ],
};

const deps = (answer: () => Promise<Response>) => {
  const posts: Array<{ url: string; body: unknown }> = [];
  const fetch = (async (url: string, init: RequestInit) => {
    posts.push({ url, body: JSON.parse(String(init.body)) });
    return answer();
  }) as unknown as typeof globalThis.fetch;
  return { posts, deps: { fetch, sample: () => SAMPLE, now: () => 1_700_000_000_000 } };
};

describe('npm run send-sample', () => {
  it('--help prints the usage and sends nothing', async () => {
    const { posts, deps: d } = deps(async () => new Response('{}'));
    const { io, text } = captureIo();
    expect(await run(['--help'], io, d)).toBe(0);
    expect(text()).toMatch(/^usage: npm run send-sample/);
    expect(posts).toEqual([]);
  });

  it('posts the sample with fresh ids and the current time to the chosen port, then says where to look', async () => {
    const { posts, deps: d } = deps(async () => new Response('{"accepted":2,"rejected":0,"duplicates":0}', { status: 200 }));
    const { io, text } = captureIo();
    expect(await run(['--port', '4321', '--token', 'a-token-0123456789abc'], io, d)).toBe(0);
    expect(posts).toEqual([
      {
        url: 'http://127.0.0.1:4321/threatstack/a-token-0123456789abc',
        body: {
          alerts: [
            { id: 'sample-1700000000000-0', severity: 1, created_at: 1_700_000_000_000 },
            { id: 'sample-1700000000000-1', severity: 2, created_at: 1_700_000_000_000 },
          ],
        },
      },
    ]);
    expect(text().split('\n')).toEqual([
      '200 {"accepted":2,"rejected":0,"duplicates":0}',
      'Sent 2 alerts (sample-1700000000000-0, sample-1700000000000-1). Look next:',
      '  status page   http://127.0.0.1:4321/status',
      '  incidents     http://127.0.0.1:4321/local/incidents  (the built-in inbox, when no SQUADCAST_WEBHOOK_URL is set)',
      '  dead letters  npm run dead-letters -- --local --port 4321',
    ]);
  });

  it('says what to do when the relay refuses the token, or cannot be reached', async () => {
    const refused = deps(async () => new Response('{"error":"forbidden"}', { status: 403 }));
    await expect(run(['--port', '4321'], captureIo().io, refused.deps)).rejects.toThrow(
      "the local relay refused the call (403): the token (pass the relay's WEBHOOK_TOKEN: --token, or WEBHOOK_TOKEN in the environment), or this machine's address (ALLOWED_SOURCE_IPS must hold 127.0.0.1)",
    );
    const down = deps(() => Promise.reject(new TypeError('fetch failed')));
    await expect(run(['--port', '4321'], captureIo().io, down.deps)).rejects.toThrow(
      'could not reach the local relay on 127.0.0.1:4321: is npm start running?',
    );
  });

  it('exits 1 on any other refusal, printing the answer', async () => {
    const { deps: d } = deps(async () => new Response('{"error":"body is larger than 4194304 bytes"}', { status: 413 }));
    const { io, text } = captureIo();
    expect(await run([], io, d)).toBe(1);
    expect(text()).toContain('413 {"error":"body is larger than 4194304 bytes"}');
  });

  it.each(['abc', '0', '65536', '80x'])('refuses --port %s where it is given, sending nothing', async (port) => {
    const { posts, deps: d } = deps(async () => new Response('{}'));
    await expect(run(['--port', port], captureIo().io, d)).rejects.toThrow('--port must be a whole number from 1 to 65535');
    expect(posts).toEqual([]);
  });

  it('refuses an unknown option with the usage', async () => {
    const { posts, deps: d } = deps(async () => new Response('{}'));
    await expect(run(['--stage', 'prod'], captureIo().io, d)).rejects.toThrow("Unknown option '--stage'");
    expect(posts).toEqual([]);
  });
});
