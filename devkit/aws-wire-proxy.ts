import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 in front of an AWS emulator (moto, fauxqs, dynalite): every request the
 * SDK really sends, retries included, is forwarded unchanged and shown to `observe` with its answer.
 * The bench counts with it (bench/counting-proxy.ts); the rehearsal records each call as the IAM
 * action it needs (scripts/rehearsal/recording-proxy.ts).
 */

/** One request and its answer, as they crossed the wire. */
export interface WireExchange {
  /** `x-amz-target` as sent (`AmazonSQS.SendMessageBatch`), or '' for a query-protocol call. */
  readonly amzTarget: string;
  /** The operation: the target's last part (`SendMessageBatch`). */
  readonly operation: string;
  readonly requestBody: Buffer;
  readonly status: number;
  readonly responseBody: Buffer;
}

export interface WireProxyOptions {
  readonly upstream: string;
  readonly observe: (exchange: WireExchange) => void;
  /**
   * Keep the request's Host header (fauxqs builds queue URLs from it, so they point back at the
   * proxy), or send the upstream's own (moto checks it). Default: keep.
   */
  readonly keepHost?: boolean;
  /** A path the proxy answers itself with `answer()` as JSON, never forwarded (the bench's counts). */
  readonly control?: { readonly path: string; readonly answer: () => unknown };
}

export interface WireProxy {
  readonly url: string;
  close(): Promise<void>;
}

export const readAll = async (stream: NodeJS.ReadableStream): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
};

const headerOf = (request: IncomingMessage, name: string): string => {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
};

export const startWireProxy = async (options: WireProxyOptions): Promise<WireProxy> => {
  const target = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

  const forward = async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    if (options.control !== undefined && incoming.method === 'GET' && incoming.url === options.control.path) {
      outgoing.writeHead(200, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify(options.control.answer()));
      return;
    }
    const requestBody = await readAll(incoming);
    const headers = options.keepHost === false ? { ...incoming.headers, host: target.host } : incoming.headers;
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const proxied = httpRequest(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers, agent },
        resolve,
      );
      proxied.on('error', reject);
      proxied.end(requestBody);
    });
    const responseBody = await readAll(answer);
    const amzTarget = headerOf(incoming, 'x-amz-target');
    options.observe({
      amzTarget,
      operation: amzTarget.split('.').pop() || 'unknown',
      requestBody,
      status: answer.statusCode ?? 0,
      responseBody,
    });
    outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
    outgoing.end(responseBody);
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
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
};
