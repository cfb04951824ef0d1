import { ConfigError } from '../../../lib/common/config-error';
import { handleIngestEvent } from '../../../lib/ingest/handle-ingest-event';
import type { IngestDeps } from '../../../lib/ingest/ingest-webhook';

import { aBatchBody, anAlert, anIngestEvent, aRawAlert, SENTINEL } from '../../helpers/factories';
import { CapturingLogger, ingestHarness } from '../../helpers/fakes';

const setup = () => {
  const harness = ingestHarness();
  return { ...harness, depsFn: async (): Promise<IngestDeps> => harness.deps };
};

const bodyOf = (response: { body: string }): unknown => JSON.parse(response.body);

describe('handleIngestEvent', () => {
  it('answers 200 with the counts', async () => {
    const { depsFn, log } = setup();
    const response = await handleIngestEvent(
      anIngestEvent({ body: aBatchBody([anAlert(), anAlert(), aRawAlert({ severity: 7 }), 'not an alert']) }),
      depsFn,
      log,
    );
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({ accepted: 3, degraded: 1, rejected: 1, duplicates: 0 });
  });

  it('answers both refusals with identical 403 responses', async () => {
    const { depsFn, log } = setup();
    const byIp = await handleIngestEvent(
      anIngestEvent({ sourceIp: '203.0.113.9', headers: { 'X-Forwarded-For': '52.20.173.142' } }),
      depsFn,
      log,
    );
    const byToken = await handleIngestEvent(anIngestEvent({ token: 'wrong-token-0123456789' }), depsFn, log);
    expect(byIp.statusCode).toBe(403);
    expect(byIp).toEqual(byToken);
  });

  it('answers 413 for a body over 4 MiB', async () => {
    const { depsFn, log } = setup();
    const response = await handleIngestEvent(anIngestEvent({ body: ' '.repeat(4 * 1_048_576 + 1) }), depsFn, log);
    expect(response.statusCode).toBe(413);
    expect(bodyOf(response)).toEqual({ error: 'body is larger than 4194304 bytes', limitBytes: 4_194_304 });
  });

  it('answers 400 with problems for an invalid body, without echoing it', async () => {
    const { depsFn, log } = setup();
    const response = await handleIngestEvent(anIngestEvent({ body: { alerts: SENTINEL } }), depsFn, log);
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toEqual({
      error: 'body is not a Threat Stack alert batch or alert',
      problems: [
        'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    });
    expect(response.body).not.toContain(SENTINEL);
  });

  it('answers 503 when a message could not be queued', async () => {
    const { depsFn, alerts, log } = setup();
    alerts.failAll();
    const response = await handleIngestEvent(anIngestEvent(), depsFn, log);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('5');
  });

  it('answers 503 when deps() throws, and logs only the error name', async () => {
    const log = new CapturingLogger();
    const response = await handleIngestEvent(anIngestEvent(), async () => Promise.reject(new TypeError(`boom ${SENTINEL}`)), log);
    expect(response).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': '5' },
      body: JSON.stringify({ error: 'temporarily unavailable; send the batch again' }),
    });
    expect(log.entries).toEqual([
      { level: 'error', message: 'ingest failed unexpectedly', fields: { error: 'TypeError', detail: undefined } },
    ]);
    expect(log.text()).not.toContain(SENTINEL);
  });

  it('logs the message of a ConfigError (it names a key, never a value)', async () => {
    const log = new CapturingLogger();
    const response = await handleIngestEvent(anIngestEvent(), () => Promise.reject(new ConfigError(['WEBHOOK_TOKEN: is empty'])), log);
    expect(response.statusCode).toBe(503);
    expect(log.entries[0]?.fields).toEqual({ error: 'ConfigError', detail: 'invalid configuration: WEBHOOK_TOKEN: is empty' });
  });

  it('answers 503, not 4xx or a thrown error, when the queue adapter throws', async () => {
    const { depsFn, alerts, log } = setup();
    alerts.error = new Error('socket hang up');
    await expect(handleIngestEvent(anIngestEvent(), depsFn, log)).resolves.toEqual(expect.objectContaining({ statusCode: 503 }));
  });

  it('answers 503 when deps() throws something that is not an Error', async () => {
    const log = new CapturingLogger();
    const response = await handleIngestEvent(anIngestEvent(), () => Promise.reject(SENTINEL), log);
    expect(response.statusCode).toBe(503);
    expect(log.text()).not.toContain(SENTINEL);
  });
});
