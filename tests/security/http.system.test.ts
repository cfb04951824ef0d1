import type { OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { RelayProcess } from '../helpers/local-processes';
import { eventually, startRelayProcess } from '../helpers/local-processes';

/**
 * The relay as `npm start` runs it (real HTTP server, real handlers, SQS and DynamoDB emulators),
 * attacked over HTTP. Only 127.0.0.2 is allowed: requests come from 127.0.0.1 unless they bind
 * 127.0.0.2 as their source, so the allowlist is checked against the real TCP peer.
 */
const TOKEN = 'http-security-token-0123456789abc';
let relay: RelayProcess;

interface Answer {
  readonly status: number;
  readonly body: string;
}

const send = (
  path: string,
  options: { from?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; method?: string } = {},
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const url = new URL(relay.baseUrl);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'POST',
        localAddress: options.from ?? '127.0.0.1',
        headers: { 'content-type': 'application/json', ...options.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(options.body ?? JSON.stringify({ alerts: [] }));
  });

const alert = (id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  title: `Host:  ${id}`,
  created_at: 1_700_000_000_000,
  severity: 2,
  organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
  server_or_region: 'web-1',
  source: 'Host',
  ...overrides,
});

beforeAll(async () => {
  relay = await startRelayProcess({
    AWS_ENDPOINT_URL_SQS: '',
    AWS_ENDPOINT_URL_DYNAMODB: '',
    SQUADCAST_WEBHOOK_URL: '',
    WEBHOOK_TOKEN: TOKEN,
    ALLOWED_SOURCE_IPS: '127.0.0.2',
    LOCAL_RESOURCE_PREFIX: 'http-security',
  });
}, 150_000);

afterAll(() => relay?.stop());

test('from an unlisted address, forged forwarding headers naming the listed one are refused', async () => {
  const forged: OutgoingHttpHeaders[] = [
    { 'X-Forwarded-For': '127.0.0.2' },
    { 'X-Forwarded-For': '203.0.113.9, 127.0.0.2' },
    { 'X-Forwarded-For': ['127.0.0.2', '127.0.0.2'] },
    { Forwarded: 'for=127.0.0.2;proto=https' },
    { 'X-Real-IP': '127.0.0.2' },
    { 'True-Client-IP': '127.0.0.2', 'X-Client-IP': '127.0.0.2', 'CF-Connecting-IP': '127.0.0.2' },
  ];
  for (const headers of forged)
    expect(await send(`/threatstack/${TOKEN}`, { headers })).toEqual({ status: 403, body: '{"error":"forbidden"}' });
  // The same request from the listed address gets in.
  expect((await send(`/threatstack/${TOKEN}`, { from: '127.0.0.2' })).status).toBe(200);
});

test('token tricks in the path are refused; only the exact token (however percent-encoded) opens', async () => {
  const paths: Array<[string, number]> = [
    [`/threatstack/${TOKEN}`, 200],
    [`/threatstack/${TOKEN.replace(/[a-z]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`, 200],
    [`/threatstack/${TOKEN.toUpperCase()}`, 403],
    [`/threatstack/${TOKEN.slice(0, -1)}`, 403],
    [`/threatstack/${TOKEN}x`, 403],
    [`/threatstack/${encodeURIComponent(encodeURIComponent(TOKEN.replace('-', '%')))}`, 403],
    [`/threatstack/%25${TOKEN}`, 403],
    [`/threatstack/${TOKEN}%00`, 403],
    [`/threatstack/${TOKEN}%2F`, 403],
    [`/threatstack/${TOKEN}%20`, 403],
    [`/threatstack/%E0%A4%A`, 403],
    ['/threatstack/', 403],
    [`/threatstack/${TOKEN}/`, 404],
    [`/threatstack/${TOKEN}/x`, 404],
    [`/THREATSTACK/${TOKEN}`, 404],
    [`/threatstack?token=${TOKEN}`, 404],
  ];
  for (const [path, status] of paths) expect({ path, status: (await send(path, { from: '127.0.0.2' })).status }).toEqual({ path, status });
});

test('a compressed body is answered 415 "Content-Encoding not supported", whatever the header name\'s case', async () => {
  const body = gzipSync(JSON.stringify({ alerts: [alert('gzipped')] }));
  for (const headers of [{ 'Content-Encoding': 'gzip' }, { 'content-encoding': 'GZIP' }, { 'CONTENT-ENCODING': 'br' }]) {
    const answer = await send(`/threatstack/${TOKEN}`, { from: '127.0.0.2', headers, body });
    expect(answer).toEqual({ status: 415, body: '{"error":"Content-Encoding not supported; send the body uncompressed"}' });
  }
  // identity is no coding at all.
  const plain = JSON.stringify({ alerts: [alert('identity-coded')] });
  expect(
    (await send(`/threatstack/${TOKEN}`, { from: '127.0.0.2', headers: { 'Content-Encoding': 'identity' }, body: plain })).status,
  ).toBe(200);
});

test('hostile bodies over HTTP: no 5xx, no echo, and valid alerts with odd characters are delivered', async () => {
  const bodies: Array<[string, string | Buffer, number]> = [
    ['not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400],
    ['not JSON', 'alerts=ZZMARKZZ', 400],
    ['JSON of the wrong shape', JSON.stringify({ alerts: 'ZZMARKZZ' }), 400],
    ['a batch nested 50 000 deep', `{"alerts":[${'['.repeat(50_000)}"ZZMARKZZ"${']'.repeat(50_000)}]}`, 200],
    [
      'an emoji, U+FFFE and U+FFFF in a valid alert',
      JSON.stringify({ alerts: [alert('odd-chars', { title: 'fire \u{1F525} \uFFFE\uFFFF ZZMARKZZ' })] }),
      200,
    ],
    ['an id of 3000 characters', JSON.stringify({ alerts: [alert(`${'x'.repeat(3000)}ZZMARKZZ`)] }), 200],
  ];
  for (const [what, body, status] of bodies) {
    const answer = await send(`/threatstack/${TOKEN}`, { from: '127.0.0.2', body });
    expect({ what, status: answer.status }).toEqual({ what, status });
    expect(answer.body).not.toContain('ZZMARKZZ');
  }
  // Every content type is the same to the relay.
  for (const contentType of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    '',
  ]) {
    const answer = await send(`/threatstack/${TOKEN}`, {
      from: '127.0.0.2',
      headers: { 'content-type': contentType },
      body: JSON.stringify({ alerts: [alert(`ct-${contentType || 'none'}`)] }),
    });
    expect({ contentType, status: answer.status }).toEqual({ contentType, status: 200 });
  }
  // The alert with odd characters reached the (local) Squadcast, its title intact.
  await eventually('the odd-character alert delivered', async () => {
    const incidents = (await (await fetch(`${relay.baseUrl}/local/incidents`)).json()) as Array<{ event_id: string; message: string }>;
    return incidents.some((incident) => incident.event_id === 'odd-chars' && incident.message.includes('\u{1F525} \uFFFE\uFFFF'));
  });
  // The alert with a 3000-character id (too long for the ledger) paged under an id derived from its content.
  await eventually('the alert with a 3000-character id delivered under a derived id', async () => {
    const incidents = (await (await fetch(`${relay.baseUrl}/local/incidents`)).json()) as Array<{ event_id: string; description: string }>;
    return incidents.some((incident) => incident.event_id.startsWith('relay-derived-') && incident.description.includes('x'.repeat(400)));
  });
  // Only the element that is not an alert object went to the dead-letter queue.
  const status = (await (await fetch(`${relay.baseUrl}/status`)).json()) as { queue: { deadLetter: number } };
  expect(status.queue.deadLetter).toBe(1);
});
