import { gzipSync } from 'node:zlib';
import type { Alert } from '../../../lib/alert/codec';
import type { AlertIssue } from '../../../lib/alert/read-alert';
import type { CountMetric, RelayMetrics } from '../../../lib/common/metrics';
import { Secret } from '../../../lib/common/secret';
import type { IngestDeps, IngestResult } from '../../../lib/ingest/ingest-webhook';
import { ingestWebhook } from '../../../lib/ingest/ingest-webhook';
import type { RefusalReason, WebhookRequest } from '../../../lib/ingest/request-screen';
import { MAX_ALERTS_PER_REQUEST, MAX_BODY_BYTES, MAX_ESCAPED_KEYS_PER_REQUEST } from '../../../lib/ingest/request-screen';

import { MAX_MESSAGE_BYTES, MAX_QUEUED_ALERT_BYTES } from '../../../lib/queue/messages';
import { aBatchBody, anAlert, aRawAlert, SENTINEL, TEST_WEBHOOK_TOKEN, THREAT_STACK_IP } from '../../helpers/factories';
import { ingestHarness } from '../../helpers/fakes';

const NOW = new Date('2023-11-14T22:13:21.000Z');

const setup = (overrides: Partial<IngestDeps> = {}) => {
  // Like SQS, the queues refuse a message over the size the relay assumes.
  const { deps, alerts, deadLetters, log } = ingestHarness({ maxMessageBytes: MAX_MESSAGE_BYTES, now: () => NOW, ...overrides });
  const ingest = (request: Partial<WebhookRequest> & { readonly json?: unknown } = {}): Promise<IngestResult> => {
    const { json, ...rest } = request;
    return ingestWebhook(
      {
        sourceIp: THREAT_STACK_IP,
        token: TEST_WEBHOOK_TOKEN,
        body: Buffer.from(json === undefined ? aBatchBody([anAlert()]) : JSON.stringify(json)),
        ...rest,
      },
      deps,
    );
  };
  return { deps, alerts, deadLetters, log, ingest };
};

const countingMetrics = () => {
  const counted: Array<[CountMetric, number]> = [];
  const metrics: RelayMetrics = {
    count: (metric, value = 1) => void counted.push([metric, value]),
    squadcastLatency: () => undefined,
    largest: () => undefined,
    flush: () => undefined,
  };
  return { metrics, counted };
};

type QueuedBody = { alert: Alert; alertId: string; receivedAt: string; notes?: AlertIssue[] };
type DeadLetterBody = { failure: { stage: string; reason: string; problems: string[]; at: string }; raw: unknown };

describe('ingestWebhook: authentication', () => {
  it.each<[string, string | undefined]>([
    ['an address outside the allowlist', '203.0.113.9'],
    ['no address', undefined],
    ['a garbage address', 'garbage'],
  ])('refuses %s as forbidden, before reading the body', async (_name, sourceIp) => {
    const { ingest, alerts, deadLetters, log } = setup();
    expect(await ingest({ sourceIp, body: Buffer.from('not json') })).toEqual({ kind: 'forbidden' });
    expect(alerts.calls).toEqual([]);
    expect(deadLetters.calls).toEqual([]);
    expect(log.entries).toEqual([
      { level: 'warn', message: 'webhook refused', fields: { reason: 'source-ip', sourceIp: sourceIp ?? null } },
    ]);
  });

  it.each<[string, string | undefined]>([
    ['a wrong token', `${SENTINEL}-wrong`],
    ['a token in another case', TEST_WEBHOOK_TOKEN.toUpperCase()],
    ['no token', undefined],
    ['an empty token', ''],
  ])('refuses %s as forbidden, and never logs the token', async (_name, token) => {
    const { ingest, alerts, log } = setup();
    expect(await ingest({ token })).toEqual({ kind: 'forbidden' });
    expect(alerts.calls).toEqual([]);
    expect(log.entries).toEqual([{ level: 'warn', message: 'webhook refused', fields: { reason: 'token', sourceIp: THREAT_STACK_IP } }]);
    expect(log.text()).not.toContain(SENTINEL);
    expect(log.text()).not.toContain(TEST_WEBHOOK_TOKEN);
  });

  it('answers both refusals with the same result, and checks the address first', async () => {
    const byIp = await setup().ingest({ sourceIp: '203.0.113.9', token: TEST_WEBHOOK_TOKEN });
    const byToken = await setup().ingest({ token: 'wrong-token-0123456789' });
    expect(byIp).toEqual(byToken);
    const both = setup();
    await both.ingest({ sourceIp: '203.0.113.9', token: 'wrong-token-0123456789' });
    expect(both.log.entries.map((e) => e.fields.reason)).toEqual(['source-ip']);
  });

  it('accepts a Threat Stack address in its IPv4-mapped IPv6 form', async () => {
    expect(await setup().ingest({ sourceIp: '::ffff:54.174.225.119' })).toEqual(expect.objectContaining({ kind: 'accepted', accepted: 1 }));
  });

  it.each<[string, string, string | undefined]>([
    ['the current token', TEST_WEBHOOK_TOKEN, 'current'],
    ['the previous token', 'previous-token-0123456789', 'previous'],
    ['neither', 'another-token-0123456789', undefined],
  ])('during a rotation accepts %s, and logs which one matched, never its value', async (_name, token, matched) => {
    const { ingest, alerts, log } = setup({ previousToken: new Secret('previous-token-0123456789') });
    const result = await ingest({ token });
    expect(result.kind).toBe(matched === undefined ? 'forbidden' : 'accepted');
    expect(alerts.calls).toHaveLength(matched === undefined ? 0 : 1);
    if (matched !== undefined) expect(log.find('webhook accepted')?.fields).toEqual(expect.objectContaining({ token: matched }));
    expect(log.text()).not.toContain(token);
  });

  it('never logs the token of an accepted call', async () => {
    const { ingest, log } = setup();
    await ingest();
    expect(log.entries.length).toBeGreaterThan(0);
    expect(log.text()).not.toContain(TEST_WEBHOOK_TOKEN);
  });
});

describe('ingestWebhook: bodies refused as a whole', () => {
  it('refuses a body over 4 MiB with 413, without parsing or queueing it', async () => {
    const { ingest, alerts, deadLetters } = setup();
    expect(await ingest({ body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) })).toEqual({ kind: 'payload-too-large', limitBytes: 4_194_304 });
    expect(alerts.calls).toEqual([]);
    expect(deadLetters.calls).toEqual([]);
  });

  it('reads a body of exactly 4 MiB', async () => {
    const json = aBatchBody([anAlert()]);
    const body = Buffer.from(json.padEnd(MAX_BODY_BYTES, ' '));
    expect(body.length).toBe(MAX_BODY_BYTES);
    expect(await setup().ingest({ body })).toEqual(expect.objectContaining({ kind: 'accepted', accepted: 1 }));
  });

  it.each<[string, Buffer, string]>([
    ['not JSON', Buffer.from(`{"alerts": [${SENTINEL}`), 'body is not valid JSON'],
    ['empty', Buffer.alloc(0), 'body is not valid JSON'],
    [
      'not UTF-8',
      Buffer.concat([Buffer.from(`{"alerts": [], "x": "${SENTINEL}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      'body is not valid UTF-8',
    ],
    ['a truncated UTF-8 sequence', Buffer.from([0x7b, 0x22, 0xe2, 0x82]), 'body is not valid UTF-8'],
  ])('refuses a body that is %s with 400, no problems and no echo', async (_name, body, error) => {
    const { ingest, alerts, deadLetters } = setup();
    const result = await ingest({ body });
    expect(result).toEqual({ kind: 'bad-request', error, problems: [] });
    expect(JSON.stringify(result)).not.toContain(SENTINEL);
    expect(alerts.calls).toEqual([]);
    expect(deadLetters.calls).toEqual([]);
  });

  it.each<[string, unknown, readonly string[]]>([
    [
      'alerts that is not an array',
      { alerts: SENTINEL },
      [
        'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    ],
    ['a JSON string', SENTINEL, ['(root): expected an object {"alerts": [...]} or a single alert object']],
    [
      'an object with no alert field',
      { note: SENTINEL },
      [
        '(root): expected {"alerts": [...]} or an alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    ],
  ])('refuses %s with 400 and field-path problems, never the values', async (_name, json, problems) => {
    const { ingest, alerts, deadLetters } = setup();
    const result = await ingest({ json });
    expect(result).toEqual({ kind: 'bad-request', error: 'body is not a Threat Stack alert batch or alert', problems });
    expect(JSON.stringify(result)).not.toContain(SENTINEL);
    expect(alerts.calls).toEqual([]);
    expect(deadLetters.calls).toEqual([]);
  });
});

describe('ingestWebhook: compressed bodies (Content-Encoding)', () => {
  it.each<[string, string]>([
    ['gzip', 'gzip'],
    ['GZip, in another case', 'GZip'],
    ['x-gzip', 'x-gzip'],
    ['deflate', 'deflate'],
    ['br', 'br'],
    ['gzip over identity', 'identity, gzip'],
  ])('refuses %s with unsupported-encoding before reading the body', async (_name, contentEncoding) => {
    const { ingest, alerts, deadLetters, log } = setup();
    const body = gzipSync(Buffer.from(aBatchBody([anAlert()])));
    expect(await ingest({ contentEncoding, body })).toEqual({ kind: 'unsupported-encoding' });
    expect(alerts.calls).toEqual([]);
    expect(deadLetters.calls).toEqual([]);
    expect(log.entries).toEqual([
      {
        level: 'warn',
        message: 'webhook refused',
        fields: { reason: 'content-encoding', sourceIp: THREAT_STACK_IP, contentEncoding: expect.any(Array) },
      },
    ]);
  });

  it('logs a registered coding by name and anything else as "other", never the header text', async () => {
    const { ingest, log } = setup();
    await ingest({ contentEncoding: `gzip, ${SENTINEL}` });
    expect(log.find('webhook refused')?.fields.contentEncoding).toEqual(['gzip', 'other']);
    expect(log.text()).not.toContain(SENTINEL);
  });

  it.each<[string, string | undefined]>([
    ['no header', undefined],
    ['identity', 'identity'],
    ['Identity, in another case', ' Identity '],
    ['an empty header', ''],
  ])('reads the body as sent with %s', async (_name, contentEncoding) => {
    expect(await setup().ingest({ contentEncoding })).toEqual(expect.objectContaining({ kind: 'accepted', accepted: 1 }));
  });

  it('checks the address and the token first: a compressed body from a stranger is forbidden', async () => {
    const { ingest } = setup();
    expect(await ingest({ sourceIp: '203.0.113.9', contentEncoding: 'gzip' })).toEqual({ kind: 'forbidden' });
    expect(await ingest({ token: 'wrong-token-0123456789', contentEncoding: 'gzip' })).toEqual({ kind: 'forbidden' });
  });
});

describe('ingestWebhook: every refusal is counted under its own reason', () => {
  it.each<[string, Partial<WebhookRequest> & { readonly json?: unknown }, IngestResult['kind'], RefusalReason, CountMetric]>([
    ['an address outside the allowlist', { sourceIp: '203.0.113.9' }, 'forbidden', 'source-ip', 'refusedSource'],
    ['a wrong token', { token: 'wrong-token-0123456789' }, 'forbidden', 'token', 'refusedToken'],
    ['a gzip body', { contentEncoding: 'gzip' }, 'unsupported-encoding', 'content-encoding', 'refusedEncoding'],
    ['a body over 4 MiB', { body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) }, 'payload-too-large', 'too-large', 'refusedTooLarge'],
    ['a body that is not JSON', { body: Buffer.from('{') }, 'bad-request', 'not-json', 'refusedNotJson'],
    ['a body that is not UTF-8', { body: Buffer.from([0x7b, 0xff, 0x7d]) }, 'bad-request', 'not-json', 'refusedNotJson'],
    ['JSON that holds no alert', { json: { alerts: 'none' } }, 'bad-request', 'no-alerts', 'refusedNoAlerts'],
  ])('%s: %s, counted once as %s', async (_name, request, kind, reason, metric) => {
    const { metrics, counted } = countingMetrics();
    const { ingest, log } = setup({ metrics });
    expect((await ingest(request)).kind).toBe(kind);
    expect(counted).toEqual([[metric, 1]]);
    expect(log.entries).toEqual([{ level: 'warn', message: 'webhook refused', fields: expect.objectContaining({ reason }) }]);
  });

  it.each<[string, (alerts: unknown[]) => unknown]>([
    ['{"alerts": [...]}', (alerts) => ({ alerts })],
    ['a top-level array', (alerts) => alerts],
  ])(
    'refuses %s of more than MAX_ALERTS_PER_REQUEST tiny alerts with 413 before reading one, counted as too large',
    async (_name, shape) => {
      const { metrics, counted } = countingMetrics();
      const { ingest, alerts, log } = setup({ metrics });
      const tiny = Array.from({ length: MAX_ALERTS_PER_REQUEST + 1 }, (_, i) => ({ id: String(i) }));
      expect(await ingest({ json: shape(tiny) })).toEqual({
        kind: 'too-many-alerts',
        limitAlerts: MAX_ALERTS_PER_REQUEST,
        alerts: MAX_ALERTS_PER_REQUEST + 1,
      });
      expect(counted).toEqual([['refusedTooLarge', 1]]);
      expect(alerts.accepted).toEqual([]);
      expect(log.entries).toEqual([
        {
          level: 'warn',
          message: 'webhook refused',
          fields: {
            reason: 'too-large',
            sourceIp: THREAT_STACK_IP,
            alerts: MAX_ALERTS_PER_REQUEST + 1,
            limitAlerts: MAX_ALERTS_PER_REQUEST,
          },
        },
      ]);
      expect(await ingest({ json: shape(tiny.slice(1)) })).toEqual(
        expect.objectContaining({ kind: 'accepted', accepted: MAX_ALERTS_PER_REQUEST }),
      );
    },
  );

  it('refuses a body with more object keys written with escapes than MAX_ESCAPED_KEYS_PER_REQUEST with 413, before reading one', async () => {
    const { metrics, counted } = countingMetrics();
    const { ingest, alerts, deadLetters, log } = setup({ metrics });
    /** 5000 alerts with `perAlert` keys written with an escape each (`"caf\u00e9<n>"`), and the first with `extra` more. */
    const escapedKeysBody = (perAlert: number, extra = 0): Buffer =>
      Buffer.from(
        `{"alerts":[${Array.from({ length: 5_000 }, (_, i) => {
          const keys = Array.from({ length: perAlert + (i === 0 ? extra : 0) }, (_, k) => `,"caf\\u00e9${k}":1`).join('');
          return `{"id":"esc-${i}"${keys}}`;
        }).join(',')}]}`,
      );
    const perAlert = MAX_ESCAPED_KEYS_PER_REQUEST / 5_000;
    expect(await ingest({ body: escapedKeysBody(perAlert) })).toEqual(expect.objectContaining({ kind: 'accepted', accepted: 5_000 }));
    expect(JSON.parse(alerts.accepted[0]?.body ?? '{}').alert).toEqual(expect.objectContaining({ café0: 1 }));
    counted.length = 0;
    alerts.calls.length = 0;
    deadLetters.calls.length = 0;
    log.entries.length = 0;
    const over = escapedKeysBody(perAlert, 1);
    expect(await ingest({ body: over })).toEqual({ kind: 'too-many-escaped-keys', limitEscapedKeys: MAX_ESCAPED_KEYS_PER_REQUEST });
    expect(counted).toEqual([['refusedTooLarge', 1]]);
    expect(alerts.calls).toEqual([]);
    expect(deadLetters.calls).toEqual([]);
    expect(log.entries).toEqual([
      {
        level: 'warn',
        message: 'webhook refused',
        fields: { reason: 'too-large', sourceIp: THREAT_STACK_IP, limitEscapedKeys: MAX_ESCAPED_KEYS_PER_REQUEST },
      },
    ]);
  });

  it("does not count a deploy's smoke test (a wrong token on purpose), and counts every other refusal of it", async () => {
    const { metrics, counted } = countingMetrics();
    const { ingest, log } = setup({ metrics });
    expect(await ingest({ token: 'wrong-token-0123456789', smokeTest: true })).toEqual({ kind: 'forbidden' });
    expect(counted).toEqual([]);
    expect(log.entries).toEqual([
      { level: 'info', message: 'smoke test: a wrong token refused, as expected (not counted)', fields: { sourceIp: THREAT_STACK_IP } },
    ]);
    // The mark excuses nothing else: an address refused is a real problem, counted as ever.
    expect(await ingest({ sourceIp: '203.0.113.9', token: 'wrong-token-0123456789', smokeTest: true })).toEqual({ kind: 'forbidden' });
    expect(counted).toEqual([['refusedSource', 1]]);
  });

  it('logs the field paths of a body with no alert shape, and the size of one too large, never the body', async () => {
    const { ingest, log } = setup();
    await ingest({ json: { alerts: SENTINEL } });
    await ingest({ body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) });
    await ingest({ body: Buffer.from(`{"alerts": [${SENTINEL}`) });
    expect(log.entries.map((e) => e.fields)).toEqual([
      {
        reason: 'no-alerts',
        sourceIp: THREAT_STACK_IP,
        problems: [
          'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
        ],
      },
      { reason: 'too-large', sourceIp: THREAT_STACK_IP, bytes: MAX_BODY_BYTES + 1 },
      { reason: 'not-json', sourceIp: THREAT_STACK_IP, error: 'body is not valid JSON' },
    ]);
    expect(log.text()).not.toContain(SENTINEL);
  });
});

describe('ingestWebhook: queueing', () => {
  it('accepts {"alerts": []} with zero alerts and queues nothing', async () => {
    const { ingest, alerts, deadLetters } = setup();
    expect(await ingest({ json: { alerts: [] } })).toEqual({ kind: 'accepted', accepted: 0, rejected: 0, duplicates: 0 });
    expect(alerts.attempted).toEqual([]);
    expect(deadLetters.attempted).toEqual([]);
  });

  it('queues each alert as its own message, keyed by alert id, with the receive time', async () => {
    const { ingest, alerts, deadLetters } = setup();
    const batch = [anAlert({ extra: 'kept' }), anAlert({ severity: 3 })];
    expect(await ingest({ json: { alerts: batch } })).toEqual({ kind: 'accepted', accepted: 2, rejected: 0, duplicates: 0 });
    expect(alerts.accepted.map((m) => m.key)).toEqual(batch.map((a) => a.id));
    expect(alerts.bodies<QueuedBody>()).toEqual(batch.map((alert) => ({ alert, alertId: alert.id, receivedAt: NOW.toISOString() })));
    expect(deadLetters.attempted).toEqual([]);
  });

  it('queues a bare alert with numeric strings as it was sent', async () => {
    const { ingest, alerts } = setup();
    const raw = aRawAlert({ severity: '2', created_at: '1459447024000' });
    expect(await ingest({ json: raw })).toEqual({ kind: 'accepted', accepted: 1, rejected: 0, duplicates: 0 });
    expect(alerts.bodies<QueuedBody>()[0]?.alert).toEqual(raw);
  });

  it('queues every object of a mixed batch, degraded ones included, and dead-letters what is not an object', async () => {
    const { ingest, alerts, deadLetters, log } = setup();
    const good = [anAlert(), anAlert()];
    const malformed = aRawAlert({ severity: 9, title: SENTINEL, server_or_region: null });
    const result = await ingest({ json: { alerts: [good[0], malformed, 'junk', good[1]] } });
    expect(result).toEqual({ kind: 'accepted', accepted: 3, degraded: 1, rejected: 1, duplicates: 0 });
    expect(alerts.bodies<QueuedBody>().map((b) => b.alert)).toEqual([good[0], malformed, good[1]]);
    expect(deadLetters.accepted.map((m) => m.key)).toEqual(['rejected-2']);
    expect(deadLetters.bodies<DeadLetterBody>()).toEqual([
      {
        failure: { stage: 'ingest', reason: 'invalid alert', problems: ['alerts[2]: expected object'], at: NOW.toISOString() },
        raw: 'junk',
      },
    ]);
    expect(log.find('alerts queued with fields the relay could not read; they page as degraded incidents')?.fields).toEqual({
      degraded: 1,
      alertIds: [malformed.id],
      problems: ['alerts[1].severity: expected 1, 2 or 3', 'alerts[1].server_or_region: expected text'],
    });
    expect(log.find('invalid alerts sent to the dead-letter queue')?.fields).toEqual(
      expect.objectContaining({ received: 4, enqueued: 3, degraded: 1, rejected: 1, problems: ['alerts[2]: expected object'] }),
    );
    // The alert's text goes to the queues only: never to the result or a log line.
    expect(JSON.stringify(result)).not.toContain(SENTINEL);
    expect(log.text()).not.toContain(SENTINEL);
  });

  it.each<[string, Readonly<Record<string, unknown>>]>([
    ['severity 4', { severity: 4 }],
    ['server_or_region null', { server_or_region: null }],
    ['created_at as an ISO string', { created_at: '2017-12-06T16:12:41.417Z' }],
    ['created_at "1459447024000.0"', { created_at: '1459447024000.0' }],
    ['no title', { title: undefined }],
    ['created_at in seconds', { created_at: 1_459_447_024 }],
  ])('pages a bare alert with %s as a degraded alert (200, counted), never 400', async (_name, overrides) => {
    const { ingest, alerts } = setup();
    expect(await ingest({ json: aRawAlert(overrides) })).toEqual({
      kind: 'accepted',
      accepted: 1,
      degraded: 1,
      rejected: 0,
      duplicates: 0,
    });
    expect(alerts.accepted).toHaveLength(1);
  });

  it('pages an alert whose alerts field is not a list (degraded, the note carried to deliver), and {"alerts": {alert}}', async () => {
    const { ingest, alerts } = setup();
    expect(await ingest({ json: { ...aRawAlert({ id: 'odd-1' }), alerts: 'oops' } })).toEqual({
      kind: 'accepted',
      accepted: 1,
      degraded: 1,
      rejected: 0,
      duplicates: 0,
    });
    expect(await ingest({ json: { alerts: aRawAlert({ id: 'wrapped-1' }) } })).toEqual({
      kind: 'accepted',
      accepted: 1,
      rejected: 0,
      duplicates: 0,
    });
    const [odd, wrapped] = alerts.bodies<QueuedBody>();
    expect(odd?.alertId).toBe('odd-1');
    expect(odd?.notes).toEqual([{ field: 'alerts', problem: 'a string, not a list of alerts: the body itself is read as the alert' }]);
    expect(wrapped?.alertId).toBe('wrapped-1');
  });

  it('gives an alert without an id a derived one, the same when the batch is sent again with its keys in another order', async () => {
    const { ingest, alerts } = setup();
    const { id: _id, ...rest } = anAlert({ title: 'no id' });
    const reordered = Object.fromEntries(Object.entries(rest).reverse());
    expect(await ingest({ json: { alerts: [rest] } })).toEqual(expect.objectContaining({ accepted: 1, degraded: 1 }));
    expect(await ingest({ json: { alerts: [reordered, rest] } })).toEqual(
      expect.objectContaining({ accepted: 1, degraded: 1, duplicates: 1 }),
    );
    const keys = alerts.accepted.map((m) => m.key);
    expect(keys[0]).toMatch(/^relay-derived-[0-9a-f]{32}$/);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect(alerts.bodies<QueuedBody>()[0]).toEqual({ alert: rest, alertId: keys[0], receivedAt: NOW.toISOString() });
  });

  it('queues an alert nested deeper than the cap, cut, with a note saying which field', async () => {
    const { ingest, alerts } = setup();
    const alert = anAlert();
    // JSON.stringify overflows the stack on such a value: the body is written by hand, as the caller would send it.
    const deep = `${'{"d":'.repeat(20_000)}"${SENTINEL}"${'}'.repeat(20_000)}`;
    const body = Buffer.from(`{"alerts":[${JSON.stringify(alert).slice(0, -1)},"evidence":${deep}}]}`);
    expect(await ingest({ body })).toEqual({ kind: 'accepted', accepted: 1, degraded: 1, rejected: 0, duplicates: 0 });
    const [queued] = alerts.bodies<QueuedBody>();
    expect(queued?.alertId).toBe(alert.id);
    expect(queued?.notes).toEqual([{ field: 'evidence', problem: 'nested deeper than 32 levels: cut at that depth' }]);
    expect(JSON.stringify(queued)).not.toContain(SENTINEL);
  });

  it('queues an alert sent twice in one batch once, keeping the first, and counts the duplicate', async () => {
    const { ingest, alerts, log } = setup();
    const first = anAlert({ id: 'dup-1', title: 'the title' });
    const other = anAlert();
    // Key order and unknown extra fields do not make another alert.
    const again = { extra: 'added later', ...first };
    const result = await ingest({ json: { alerts: [first, other, again, { ...first }] } });
    expect(result).toEqual({ kind: 'accepted', accepted: 2, rejected: 0, duplicates: 2 });
    const queued = alerts.bodies<QueuedBody>();
    expect(queued.map((b) => b.alert.id).sort()).toEqual(['dup-1', other.id].sort());
    expect(queued.find((b) => b.alert.id === 'dup-1')?.alert).toEqual(first);
    expect(log.find('webhook accepted')?.fields).toEqual(expect.objectContaining({ received: 4, enqueued: 2, duplicates: 2, failed: 0 }));
  });

  it('queues both of two alerts that share an id but differ in what the incident shows: both page', async () => {
    const { ingest, alerts } = setup();
    const low = anAlert({ id: 'shared-1', severity: 3, title: 'a login' });
    const raised = { ...low, severity: 1 as const, title: 'a root login' };
    expect(await ingest({ json: { alerts: [low, raised, raised] } })).toEqual({
      kind: 'accepted',
      accepted: 2,
      rejected: 0,
      duplicates: 1,
    });
    expect(alerts.bodies<QueuedBody>().map((b) => [b.alert.id, b.alert.severity])).toEqual([
      ['shared-1', 3],
      ['shared-1', 1],
    ]);
  });

  it.each([
    ['ASCII', 'x', MAX_MESSAGE_BYTES],
    ['3-byte characters', '€', 100_000],
    ['quotes (escaped in JSON)', '"', 140_000],
  ])(
    'queues an alert of %s too large for one message with its largest fields shortened, and counts it degraded',
    async (_name, char, length) => {
      const { ingest, alerts, deadLetters } = setup();
      const small = anAlert();
      const huge = anAlert({ title: char.repeat(length), severity: 3 });
      expect(await ingest({ json: { alerts: [small, huge] } })).toEqual({
        kind: 'accepted',
        accepted: 2,
        degraded: 1,
        rejected: 0,
        duplicates: 0,
      });
      expect(alerts.accepted.map((m) => m.key)).toEqual([small.id, huge.id]);
      expect(Buffer.byteLength(alerts.accepted[1]?.body ?? '')).toBeLessThanOrEqual(MAX_QUEUED_ALERT_BYTES);
      expect(alerts.bodies<QueuedBody>()[1]?.notes).toEqual([
        { field: 'title', problem: `shortened from ${length} characters to fit one queue message` },
      ]);
      expect(deadLetters.attempted).toEqual([]);
    },
  );

  it('logs the accepted alert ids, never their titles', async () => {
    const { ingest, log } = setup();
    const alert = anAlert({ title: SENTINEL });
    await ingest({ json: { alerts: [alert] } });
    expect(log.find('webhook accepted')).toEqual({
      level: 'info',
      message: 'webhook accepted',
      fields: { token: 'current', received: 1, enqueued: 1, degraded: 0, rejected: 0, duplicates: 0, failed: 0, alertIds: [alert.id] },
    });
    expect(log.text()).not.toContain(SENTINEL);
  });
});

describe('ingestWebhook: an outage is unavailable (503), never a 4xx', () => {
  it('answers unavailable when the alerts queue reports failed keys', async () => {
    const { ingest, alerts, log } = setup();
    const batch = [anAlert(), anAlert(), anAlert()];
    alerts.fails = (message) => message.key === batch[1]?.id;
    expect(await ingest({ json: { alerts: batch } })).toEqual({ kind: 'unavailable', queued: 2, failed: 1 });
    expect(log.find('could not queue every alert')).toEqual({
      level: 'error',
      message: 'could not queue every alert',
      fields: expect.objectContaining({ enqueued: 2, failed: 1, failedAlertIds: [batch[1]?.id] }),
    });
  });

  it('answers unavailable when every alert failed', async () => {
    const { ingest, alerts } = setup();
    alerts.failAll();
    expect(await ingest({ json: { alerts: [anAlert(), anAlert()] } })).toEqual({ kind: 'unavailable', queued: 0, failed: 2 });
  });

  it('answers unavailable when only the dead-letter queue fails, although every valid alert was queued', async () => {
    const { ingest, alerts, deadLetters } = setup();
    deadLetters.failAll();
    expect(await ingest({ json: { alerts: [anAlert(), 'not an alert'] } })).toEqual({
      kind: 'unavailable',
      queued: 1,
      failed: 1,
    });
    expect(alerts.accepted).toHaveLength(1);
  });

  it('lets a throwing queue adapter reject (the caller turns it into 503)', async () => {
    const { ingest, alerts } = setup();
    alerts.error = new Error('adapter bug');
    await expect(ingest()).rejects.toThrow('adapter bug');
  });
});

describe('ingestWebhook: severity filter (DELIVER_SEVERITIES)', () => {
  it('answers 2xx for filtered alerts but never queues them, and counts them', async () => {
    const { ingest, alerts, log } = setup({ deliverSeverities: new Set([1, 2] as const) });
    const high = anAlert({ severity: 1 });
    const low = anAlert({ severity: 3 });
    expect(await ingest({ json: { alerts: [high, low] } })).toEqual({
      kind: 'accepted',
      accepted: 1,
      rejected: 0,
      duplicates: 0,
      filtered: 1,
    });
    expect(alerts.accepted.map((m) => m.key)).toEqual([high.id]);
    expect(log.find('alerts filtered out by severity; not delivered')?.fields).toEqual({
      filtered: 1,
      severities: [3],
      alertIds: [low.id],
    });
  });

  it('filters a bare alert with a numeric-string severity', async () => {
    const { ingest, alerts } = setup({ deliverSeverities: new Set([1] as const) });
    expect(await ingest({ json: aRawAlert({ severity: '3' }) })).toEqual({
      kind: 'accepted',
      accepted: 0,
      rejected: 0,
      duplicates: 0,
      filtered: 1,
    });
    expect(alerts.attempted).toEqual([]);
  });

  it('leaves the answer without "filtered" when nothing was filtered', async () => {
    const { ingest } = setup({ deliverSeverities: new Set([1, 2, 3] as const) });
    expect(await ingest()).toEqual({ kind: 'accepted', accepted: 1, rejected: 0, duplicates: 0 });
  });

  it('still dead-letters what is not an alert whatever the filter', async () => {
    const { ingest, deadLetters } = setup({ deliverSeverities: new Set([1] as const) });
    expect(await ingest({ json: { alerts: [7] } })).toEqual({ kind: 'accepted', accepted: 0, rejected: 1, duplicates: 0 });
    expect(deadLetters.accepted).toHaveLength(1);
  });

  it('never filters an alert whose severity cannot be read; a filtered severity stays filtered, whatever else is unreadable', async () => {
    const { ingest, alerts } = setup({ deliverSeverities: new Set([1] as const) });
    const unknown = aRawAlert({ severity: 7 });
    const missing = aRawAlert({ severity: undefined });
    const lowButBroken = aRawAlert({ severity: 3, title: undefined });
    const low = aRawAlert({ severity: 3 });
    expect(await ingest({ json: { alerts: [unknown, missing, lowButBroken, low] } })).toEqual({
      kind: 'accepted',
      accepted: 2,
      degraded: 2,
      rejected: 0,
      duplicates: 0,
      filtered: 2,
    });
    expect(alerts.accepted.map((m) => m.key)).toEqual([unknown.id, missing.id]);
  });

  it('counts received, enqueued, rejected, degraded and filtered alerts', async () => {
    const { metrics, counted } = countingMetrics();
    const { ingest } = setup({ deliverSeverities: new Set([1] as const), metrics });
    await ingest({ json: { alerts: [anAlert({ severity: 1 }), anAlert({ severity: 2 }), aRawAlert({ severity: 0 }), null] } });
    expect(counted).toEqual([
      ['received', 4],
      ['enqueued', 2],
      ['rejected', 1],
      ['degraded', 1],
      ['filtered', 1],
    ]);
  });
});
