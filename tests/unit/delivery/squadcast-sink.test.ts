import { Secret } from '../../../lib/common/secret';
import { createSquadcastSink } from '../../../lib/delivery/squadcast-sink';
import { toIncident } from '../../../lib/incident/to-incident';
import { aReadAlert } from '../../helpers/factories';

const URL_VALUE = 'https://api.squadcast.com/v2/incidents/api/0123456789abcdef-secret-key';
const NOW = new Date('2023-11-14T22:13:20.000Z');

type FetchArgs = Parameters<typeof fetch>;

const fakeFetch = (answer: (url: FetchArgs[0], init: RequestInit) => Promise<Response> | Response) =>
  jest.fn(async (url: FetchArgs[0], init?: FetchArgs[1]): Promise<Response> => answer(url, init ?? {}));

const sinkWith = (doFetch: typeof fetch, timeoutMs = 8_000) =>
  createSquadcastSink({ url: new Secret(URL_VALUE), timeoutMs, fetch: doFetch, now: () => NOW });

describe('createSquadcastSink', () => {
  it('POSTs the incident as JSON to the secret URL, without following redirects, with a timeout signal', async () => {
    const doFetch = fakeFetch(() => new Response(null, { status: 202 }));
    const incident = toIncident(aReadAlert());
    expect(await sinkWith(doFetch).send(incident)).toEqual({ kind: 'delivered', status: 202 });
    expect(doFetch).toHaveBeenCalledTimes(1);
    const [url, init] = doFetch.mock.calls[0] ?? [];
    expect(url).toBe(URL_VALUE);
    expect(init).toEqual(expect.objectContaining({ method: 'POST', headers: { 'content-type': 'application/json' }, redirect: 'manual' }));
    expect(JSON.parse(String(init?.body))).toEqual(incident);
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    expect(init?.signal?.aborted).toBe(false);
  });

  it('aborts a request that takes longer than the timeout, as a transient failure', async () => {
    const doFetch = fakeFetch(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    // The fetch never settles by itself: only the sink's own timeout can end it.
    expect(await sinkWith(doFetch, 20).send(toIncident(aReadAlert()))).toEqual({
      kind: 'transient',
      reason: 'Squadcast request timed out',
      failure: 'timeout',
    });
  });

  it('reads a fetch that throws TimeoutError as transient', async () => {
    const doFetch = fakeFetch(() => Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError')));
    expect(await sinkWith(doFetch).send(toIncident(aReadAlert()))).toEqual({
      kind: 'transient',
      reason: 'Squadcast request timed out',
      failure: 'timeout',
    });
  });

  it('reads a network error as transient, without the URL', async () => {
    const doFetch = fakeFetch(() =>
      Promise.reject(
        new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ECONNREFUSED ${URL_VALUE}`), { code: 'ECONNREFUSED' }) }),
      ),
    );
    const outcome = await sinkWith(doFetch).send(toIncident(aReadAlert()));
    expect(outcome).toEqual({ kind: 'transient', reason: 'network error (ECONNREFUSED)', failure: 'network' });
    expect(JSON.stringify(outcome)).not.toContain('secret-key');
  });

  it.each<[number, Record<string, string>, unknown]>([
    [200, {}, { kind: 'delivered', status: 200 }],
    [204, {}, { kind: 'delivered', status: 204 }],
    [429, { 'retry-after': '7' }, { kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: 7_000 }],
    [
      503,
      { 'Retry-After': 'Tue, 14 Nov 2023 22:14:20 GMT' },
      { kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error', retryAfterMs: 60_000 },
    ],
    [500, {}, { kind: 'transient', reason: 'Squadcast answered 500', failure: 'server-error' }],
    [413, {}, { kind: 'permanent', reason: 'Squadcast answered 413', failure: 'refused' }],
    [301, { location: 'https://elsewhere.example/' }, { kind: 'permanent', reason: 'Squadcast answered 301', failure: 'refused' }],
  ])('classifies %p %p', async (status, headers, outcome) => {
    const doFetch = fakeFetch(() => new Response(status === 204 ? null : 'body', { status, headers }));
    expect(await sinkWith(doFetch).send(toIncident(aReadAlert()))).toEqual(outcome);
  });

  it('classifies by status even when the answer body cannot be read', async () => {
    const response = new Response('x', { status: 202 });
    jest.spyOn(response, 'arrayBuffer').mockRejectedValue(new Error('socket closed'));
    expect(await sinkWith(fakeFetch(() => response)).send(toIncident(aReadAlert()))).toEqual({ kind: 'delivered', status: 202 });
  });

  it('reads the answer body, so that the connection is released', async () => {
    const response = new Response('{"ok":true}', { status: 202 });
    await sinkWith(fakeFetch(() => response)).send(toIncident(aReadAlert()));
    expect(response.bodyUsed).toBe(true);
  });

  it('never prints the URL when the options are logged', () => {
    const options = { url: new Secret(URL_VALUE), timeoutMs: 1 };
    expect(JSON.stringify(options)).not.toContain('secret-key');
  });
});
