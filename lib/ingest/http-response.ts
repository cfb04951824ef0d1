import type { APIGatewayProxyResult } from 'aws-lambda';
import type { IngestResult } from './ingest-webhook';

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

/**
 * Maps an ingest outcome to the REST API answer. Both refusals share one body, so a caller
 * cannot tell a wrong address from a wrong token. An outage is 503, never 4xx: Threat Stack
 * must send the batch again, not drop it as bad input.
 */
export const toHttpResponse = (result: IngestResult): APIGatewayProxyResult => {
  switch (result.kind) {
    case 'forbidden':
      return json(403, { error: 'forbidden' });
    case 'unsupported-encoding':
      // Accept-Encoding on a 415 names the codings the server reads (RFC 9110 §12.5.3): none.
      return json(415, { error: 'Content-Encoding not supported; send the body uncompressed' }, { 'accept-encoding': 'identity' });
    case 'payload-too-large':
      return json(413, { error: `body is larger than ${result.limitBytes} bytes`, limitBytes: result.limitBytes });
    case 'too-many-alerts':
      return json(413, {
        error: `the request holds ${result.alerts} alerts; at most ${result.limitAlerts} are accepted in one request`,
        limitAlerts: result.limitAlerts,
      });
    case 'too-many-escaped-keys':
      return json(413, {
        error: `the body holds more than ${result.limitEscapedKeys} object keys written with escapes; at most ${result.limitEscapedKeys} are read in one request`,
        limitEscapedKeys: result.limitEscapedKeys,
      });
    case 'bad-request':
      return json(400, { error: result.error, problems: result.problems });
    case 'unavailable':
      return json(
        503,
        { error: 'could not queue every alert; send the batch again', queued: result.queued, failed: result.failed },
        { 'retry-after': '5' },
      );
    case 'accepted':
      // Exactly 200: Threat Stack sends a batch again, up to 3 times, for any other answer
      // (docs/reference/threatstack-webhook.md), and a 2xx other than 200 is not an exception.
      return json(200, {
        accepted: result.accepted,
        ...(result.degraded === undefined ? {} : { degraded: result.degraded }),
        rejected: result.rejected,
        duplicates: result.duplicates,
        ...(result.filtered === undefined ? {} : { filtered: result.filtered }),
      });
  }
};

/** An unexpected failure (the token could not be read, a bug): Threat Stack must retry, so 503. */
export const serviceUnavailable = (): APIGatewayProxyResult =>
  json(503, { error: 'temporarily unavailable; send the batch again' }, { 'retry-after': '5' });
