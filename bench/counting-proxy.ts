import { startWireProxy } from '../devkit/aws-wire-proxy';
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

const countMessages = (body: Buffer): number => {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { Messages?: unknown[] };
    return Array.isArray(parsed.Messages) ? parsed.Messages.length : 0;
  } catch {
    return 0;
  }
};

/**
 * A counting proxy (devkit/aws-wire-proxy.ts) in front of an emulator: every request the SDK really
 * sends (retries included) is counted by its operation, then forwarded unchanged, Host header
 * included, so fauxqs builds queue URLs that point back at the proxy.
 */
export const startCountingProxy = async (upstream: string): Promise<CountingProxy> => {
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
  const proxy = await startWireProxy({
    upstream,
    control: { path: COUNTS_PATH, answer: counts },
    observe: ({ operation, requestBody, responseBody }) => {
      requests[operation] = (requests[operation] ?? 0) + 1;
      maxRequestBytes[operation] = Math.max(maxRequestBytes[operation] ?? 0, requestBody.length);
      billedRequests[operation] = (billedRequests[operation] ?? 0) + billedSqsRequests(Math.max(requestBody.length, responseBody.length));
      if (operation === 'ReceiveMessage') {
        const received = countMessages(responseBody);
        receivedMessages += received;
        if (received > 0) nonEmptyReceives += 1;
      }
    },
  });
  return { url: proxy.url, counts, close: proxy.close };
};

/** Reads a proxy's counts over HTTP (from any process). */
export const fetchCounts = async (proxyUrl: string): Promise<WireCounts> => {
  const response = await fetch(`${proxyUrl}${COUNTS_PATH}`);
  if (!response.ok) throw new Error(`counting proxy answered ${response.status}`);
  return (await response.json()) as WireCounts;
};
