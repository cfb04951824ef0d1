import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readAll } from '../local/api-gateway-event';
import { billedSqsRequests } from './stats';

/** What crossed the wire, per operation (`x-amz-target` without its prefix, e.g. `SendMessageBatch`). */
export interface WireCounts {
  readonly requests: Record<string, number>;
  /** Largest request body per operation, bytes: bounds the item size a DynamoDB write is billed for. */
  readonly maxRequestBytes: Record<string, number>;
  /** SQS: requests as billed (every started 64 KiB of request or response payload counts once). */
  readonly billedRequests: Record<string, number>;
  /** SQS ReceiveMessage answers that carried at least one message, and how many messages in all. */
  readonly nonEmptyReceives: number;
  readonly receivedMessages: number;
}

export interface CountingProxy {
  readonly url: string;
  counts(): WireCounts;
  close(): Promise<void>;
}

/** The control path: GET it on the proxy for the counts so far, as JSON (never forwarded). */
export const COUNTS_PATH = '/__bench/counts';

const operationOf = (request: IncomingMessage): string => {
  const target = request.headers['x-amz-target'];
  const value = Array.isArray(target) ? target[0] : target;
  return value?.split('.').pop() ?? 'unknown';
};

const countMessages = (body: Buffer): number => {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { Messages?: unknown[] };
    return Array.isArray(parsed.Messages) ? parsed.Messages.length : 0;
  } catch {
    return 0;
  }
};

/**
 * A counting HTTP proxy on 127.0.0.1 in front of an emulator: every request the SDK really
 * sends (retries included) is counted by its operation, then forwarded unchanged, Host header
 * included, so fauxqs builds queue URLs that point back at the proxy.
 */
export const startCountingProxy = async (upstream: string): Promise<CountingProxy> => {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const requests: Record<string, number> = {};
  const maxRequestBytes: Record<string, number> = {};
  const billedRequests: Record<string, number> = {};
  let nonEmptyReceives = 0;
  let receivedMessages = 0;
  const counts = (): WireCounts => ({
    requests: { ...requests },
    maxRequestBytes: { ...maxRequestBytes },
    billedRequests: { ...billedRequests },
    nonEmptyReceives,
    receivedMessages,
  });

  const forward = async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    if (incoming.method === 'GET' && incoming.url === COUNTS_PATH) {
      outgoing.writeHead(200, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify(counts()));
      return;
    }
    const operation = operationOf(incoming);
    const body = await readAll(incoming);
    requests[operation] = (requests[operation] ?? 0) + 1;
    maxRequestBytes[operation] = Math.max(maxRequestBytes[operation] ?? 0, body.length);
    const upstreamResponse = await new Promise<IncomingMessage>((resolve, reject) => {
      const proxied = httpRequest(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
        resolve,
      );
      proxied.on('error', reject);
      proxied.end(body);
    });
    const answer = await readAll(upstreamResponse);
    billedRequests[operation] = (billedRequests[operation] ?? 0) + billedSqsRequests(Math.max(body.length, answer.length));
    if (operation === 'ReceiveMessage') {
      const received = countMessages(answer);
      receivedMessages += received;
      if (received > 0) nonEmptyReceives += 1;
    }
    outgoing.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
    outgoing.end(answer);
  };

  const server = createServer((incoming, outgoing) => {
    forward(incoming, outgoing).catch(() => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
};

/** Reads a proxy's counts over HTTP (from any process). */
export const fetchCounts = async (proxyUrl: string): Promise<WireCounts> => {
  const response = await fetch(`${proxyUrl}${COUNTS_PATH}`);
  if (!response.ok) throw new Error(`counting proxy answered ${response.status}`);
  return (await response.json()) as WireCounts;
};
