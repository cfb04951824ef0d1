import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CountingProxy } from '../../bench/counting-proxy';
import { fetchCounts, startCountingProxy } from '../../bench/counting-proxy';

/** An upstream that answers ReceiveMessage with two messages and everything else with its own request, echoed. */
const startUpstream = async (): Promise<{ server: Server; url: string; hosts: string[] }> => {
  const hosts: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      hosts.push(request.headers.host ?? '');
      const target = String(request.headers['x-amz-target'] ?? '');
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        target.endsWith('ReceiveMessage') ? JSON.stringify({ Messages: [{ MessageId: 'a' }, { MessageId: 'b' }] }) : Buffer.concat(chunks),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hosts };
};

const call = async (proxy: CountingProxy, target: string, body: string): Promise<string> => {
  const response = await fetch(proxy.url, {
    method: 'POST',
    headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0' },
    body,
  });
  return response.text();
};

describe('startCountingProxy', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let proxy: CountingProxy;

  beforeEach(async () => {
    upstream = await startUpstream();
    proxy = await startCountingProxy(upstream.url);
  });

  afterEach(async () => {
    await proxy.close();
    upstream.server.closeAllConnections();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
  });

  it('forwards each request unchanged, Host header included, and counts it by operation', async () => {
    expect(await call(proxy, 'AmazonSQS.SendMessageBatch', '{"Entries":[1]}')).toBe('{"Entries":[1]}');
    await call(proxy, 'AmazonSQS.SendMessageBatch', '{}');
    await call(proxy, 'DynamoDB_20120810.PutItem', '{"Item":{}}');
    expect(upstream.hosts).toEqual([new URL(proxy.url).host, new URL(proxy.url).host, new URL(proxy.url).host]);
    const counts = proxy.counts();
    expect(counts.requests).toEqual({ SendMessageBatch: 2, PutItem: 1 });
    expect(counts.maxRequestBytes).toEqual({ SendMessageBatch: 15, PutItem: 11 });
  });

  it('counts billed SQS requests by started 64 KiB of payload', async () => {
    await call(proxy, 'AmazonSQS.SendMessageBatch', 'x'.repeat(64 * 1024 + 1));
    expect(proxy.counts().billedRequests).toEqual({ SendMessageBatch: 2 });
  });

  it('counts the messages ReceiveMessage answers carry', async () => {
    await call(proxy, 'AmazonSQS.ReceiveMessage', '{}');
    expect(proxy.counts()).toMatchObject({ nonEmptyReceives: 1, receivedMessages: 2 });
  });

  it('serves its counts on the control path without counting or forwarding that request', async () => {
    await call(proxy, 'AmazonSQS.DeleteMessageBatch', '{}');
    expect((await fetchCounts(proxy.url)).requests).toEqual({ DeleteMessageBatch: 1 });
    expect(upstream.hosts).toHaveLength(1);
  });
});
