import { serviceUnavailable, toHttpResponse } from '../../../lib/ingest/http-response';
import type { IngestResult } from '../../../lib/ingest/ingest-webhook';

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

describe('toHttpResponse', () => {
  it.each<[string, IngestResult, number, unknown, Record<string, string>]>([
    [
      'accepted',
      { kind: 'accepted', accepted: 3, rejected: 1, duplicates: 2 },
      200,
      { accepted: 3, rejected: 1, duplicates: 2 },
      JSON_HEADERS,
    ],
    [
      'accepted, some filtered by severity',
      { kind: 'accepted', accepted: 1, rejected: 0, duplicates: 0, filtered: 2 },
      200,
      { accepted: 1, rejected: 0, duplicates: 0, filtered: 2 },
      JSON_HEADERS,
    ],
    [
      'accepted, some degraded (read only in part, paged all the same)',
      { kind: 'accepted', accepted: 4, degraded: 2, rejected: 0, duplicates: 0 },
      200,
      { accepted: 4, degraded: 2, rejected: 0, duplicates: 0 },
      JSON_HEADERS,
    ],
    [
      'accepted, empty batch',
      { kind: 'accepted', accepted: 0, rejected: 0, duplicates: 0 },
      200,
      { accepted: 0, rejected: 0, duplicates: 0 },
      JSON_HEADERS,
    ],
    ['forbidden', { kind: 'forbidden' }, 403, { error: 'forbidden' }, JSON_HEADERS],
    [
      'unsupported Content-Encoding',
      { kind: 'unsupported-encoding' },
      415,
      { error: 'Content-Encoding not supported; send the body uncompressed' },
      { ...JSON_HEADERS, 'accept-encoding': 'identity' },
    ],
    [
      'payload too large',
      { kind: 'payload-too-large', limitBytes: 1_048_576 },
      413,
      { error: 'body is larger than 1048576 bytes', limitBytes: 1_048_576 },
      JSON_HEADERS,
    ],
    [
      'too many alerts',
      { kind: 'too-many-alerts', limitAlerts: 5000, alerts: 262_137 },
      413,
      { error: 'the request holds 262137 alerts; at most 5000 are accepted in one request', limitAlerts: 5000 },
      JSON_HEADERS,
    ],
    [
      'too many escaped keys',
      { kind: 'too-many-escaped-keys', limitEscapedKeys: 20_000 },
      413,
      {
        error: 'the body holds more than 20000 object keys written with escapes; at most 20000 are read in one request',
        limitEscapedKeys: 20_000,
      },
      JSON_HEADERS,
    ],
    [
      'bad request',
      {
        kind: 'bad-request',
        error: 'body is not a Threat Stack alert batch or alert',
        problems: [
          'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
        ],
      },
      400,
      {
        error: 'body is not a Threat Stack alert batch or alert',
        problems: [
          'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
        ],
      },
      JSON_HEADERS,
    ],
    [
      'bad request without problems',
      { kind: 'bad-request', error: 'body is not valid JSON', problems: [] },
      400,
      { error: 'body is not valid JSON', problems: [] },
      JSON_HEADERS,
    ],
    [
      'unavailable',
      { kind: 'unavailable', queued: 2, failed: 1 },
      503,
      { error: 'could not queue every alert; send the batch again', queued: 2, failed: 1 },
      { ...JSON_HEADERS, 'retry-after': '5' },
    ],
  ])('%s', (_name, result, statusCode, body, headers) => {
    const response = toHttpResponse(result);
    expect(response.statusCode).toBe(statusCode);
    expect(response.headers).toEqual(headers);
    expect(JSON.parse(response.body)).toEqual(body);
  });

  it('gives both refusals one identical response (address and token are indistinguishable)', () => {
    // The result carries no reason; the response must not invent one.
    expect(toHttpResponse({ kind: 'forbidden' })).toEqual({ statusCode: 403, headers: JSON_HEADERS, body: '{"error":"forbidden"}' });
  });

  it('answers an outage with 5xx, never a 4xx', () => {
    expect(toHttpResponse({ kind: 'unavailable', queued: 0, failed: 10 }).statusCode).toBe(503);
  });
});

describe('serviceUnavailable', () => {
  it('is a 503 with Retry-After and no detail', () => {
    expect(serviceUnavailable()).toEqual({
      statusCode: 503,
      headers: { ...JSON_HEADERS, 'retry-after': '5' },
      body: JSON.stringify({ error: 'temporarily unavailable; send the batch again' }),
    });
  });
});
