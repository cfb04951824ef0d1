import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { fingerprintOf } from '../../lib/alert/fingerprint';
import { deriveAlertId, MAX_ALERT_ID_CHARS } from '../../lib/alert/read-alert';
import { parseJson } from '../../lib/common/json';
import type { Logger } from '../../lib/common/logger';
import { Secret } from '../../lib/common/secret';
import { handleIngestEvent } from '../../lib/ingest/handle-ingest-event';
import type { IngestDeps } from '../../lib/ingest/ingest-webhook';
import { MAX_ALERTS_PER_REQUEST } from '../../lib/ingest/request-screen';
import { createSqsQueue } from '../../lib/queue/sqs-queue';
import { MARK, mixedBatch, validAlert } from '../helpers/alert-arbitraries';
import { anAllowlist, anIngestEvent } from '../helpers/factories';
import { noMetrics } from '../helpers/fakes';
import { sqsRulesClient } from '../helpers/sqs-rules-client';

/**
 * Properties of the ingest path (API Gateway event → answer), with the real decoder, the real
 * SQS adapter and an SQS stand-in that applies SQS's rules. Whatever arrives:
 * - the handler never throws and never answers 5xx while the queues are healthy;
 * - every object of a batch is queued exactly once (a malformed one as a degraded alert, under an id
 *   derived from its content when it has no usable one), every element that is not an object is dead-lettered;
 * - nothing planted in the input comes back in an answer or a log line.
 */
const TOKEN = 'property-token-0123456789abcdef';
const ALERTS_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-alerts';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-dead-letter';

const allowlist = anAllowlist();

interface Harness {
  call(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  readonly lines: string[];
  queued(): Array<{ alert: Record<string, unknown>; alertId: string }>;
  deadLetters(): Array<{ failure: { stage: string; problems?: string[] }; raw?: unknown; alert?: { id: string } }>;
  readonly sqs: ReturnType<typeof sqsRulesClient>;
}

const harness = (): Harness => {
  const sqs = sqsRulesClient();
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Readonly<Record<string, unknown>>) =>
    lines.push(JSON.stringify({ level, message, ...fields }));
  const log: Logger = { info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
  const noWait = { sleep: async () => undefined };
  const deps: IngestDeps = {
    allowlist,
    token: new Secret(TOKEN),
    alerts: createSqsQueue(sqs.client, ALERTS_URL, noWait),
    deadLetters: createSqsQueue(sqs.client, DLQ_URL, noWait),
    log,
    metrics: noMetrics,
    now: () => new Date('2024-01-01T00:00:00.000Z'),
  };
  // Read as deliver reads them (V8's JSON.parse can misread an escaped key: lib/common/json.ts).
  const parse = (url: string) => (sqs.bodies.get(url) ?? []).map((body) => parseJson(body) as never);
  return {
    call: (event) => handleIngestEvent(event, async () => deps, log),
    lines,
    queued: () => parse(ALERTS_URL),
    deadLetters: () => parse(DLQ_URL),
    sqs,
  };
};

const post = (body: string | Buffer | null, options: { contentType?: string; base64?: boolean } = {}): APIGatewayProxyEvent =>
  anIngestEvent({
    token: TOKEN,
    body: body === null ? null : Buffer.isBuffer(body) || options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: Buffer.isBuffer(body) || options.base64 === true,
    ...(options.contentType === undefined ? {} : { headers: { 'Content-Type': options.contentType } }),
  });

const CONTENT_TYPES = [
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/xml',
  '',
  'garbage/☃',
];

const answerOf = (response: APIGatewayProxyResult): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;

const expectNoEcho = (h: Harness, response: APIGatewayProxyResult): void => {
  expect(response.body).not.toContain(MARK);
  // Alert ids are the correlation key and are logged on purpose; nothing else from the input may be.
  const withoutIds = h.lines.map((line) => line.replace(/"(valid-\d+|huge|deep)-Zq9MARKq9Z"/g, '"<id>"'));
  for (const line of withoutIds) expect(line).not.toContain(MARK);
};

// --- Properties ----------------------------------------------------------------------------

test('arbitrary bytes, text or JSON, under any content type: never throws, never 5xx, never echoes', async () => {
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => `${s}${MARK}`),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.concat([Buffer.from(bytes), Buffer.from(MARK)])),
    fc.constant(null),
  );
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom(...CONTENT_TYPES), fc.boolean(), async (payload, contentType, base64) => {
      const h = harness();
      const response = await h.call(post(payload, { base64, ...(contentType === undefined ? {} : { contentType }) }));
      expect([200, 400, 413]).toContain(response.statusCode);
      expectNoEcho(h, response);
      // Content type changes nothing: the same body under JSON's own type gets the same answer.
      const again = await harness().call(post(payload, { base64, contentType: 'application/json' }));
      expect(again.statusCode).toBe(response.statusCode);
    }),
    { numRuns: 300 },
  );
});

/** The id an element is queued under: its own when usable, else one derived from its content (the test restates the rule). */
const expectedId = (element: Record<string, unknown>): string => {
  const id = element.id;
  return typeof id === 'string' && id.trim() !== '' && id.length <= MAX_ALERT_ID_CHARS ? id : deriveAlertId(element);
};

test('a mixed batch: every object queued exactly once (malformed ones degraded), every other element dead-lettered with its path, nothing echoed', async () => {
  await fc.assert(
    fc.asyncProperty(mixedBatch, fc.constantFrom('batch', 'array'), async (elements, shape) => {
      const h = harness();
      const values = elements.map((e) => e.value);
      const response = await h.call(post(JSON.stringify(shape === 'batch' ? { alerts: values } : values)));
      expect(response.statusCode).toBe(200);
      // What the relay received: JSON (Infinity is null there, undefined is left out).
      const received = parseJson(JSON.stringify(values)) as unknown[];
      const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
      const objects = received.filter(isObject);
      // One alert is one id and one fingerprint (what its incident shows): two versions of an id both page.
      const keyOf = (o: Record<string, unknown>): string => `${expectedId(o)} ${fingerprintOf(o).value}`;
      const distinct = [...new Set(objects.map(keyOf))];
      const notObjects = received.length - objects.length;
      const broken = new Set(received.flatMap((value, i) => (elements[i]?.kind === 'invalid' && isObject(value) ? [keyOf(value)] : [])));
      const answer = answerOf(response);
      expect(answer).toMatchObject({ accepted: distinct.length, rejected: notObjects, duplicates: objects.length - distinct.length });
      // Each broken object pages degraded; well-formed ones may too (an implausible created_at is flagged).
      const degraded = Number(answer.degraded ?? 0);
      expect(degraded).toBeGreaterThanOrEqual(broken.size);
      expect(degraded).toBeLessThanOrEqual(distinct.length);
      expect('degraded' in answer).toBe(degraded > 0);
      // Queued: each alert once, with the content of its first occurrence, as sent.
      const queued = h.queued();
      expect(queued.map((q) => `${q.alertId} ${fingerprintOf(q.alert).value}`).sort()).toEqual([...distinct].sort());
      for (const key of distinct)
        expect(queued.find((q) => `${q.alertId} ${fingerprintOf(q.alert).value}` === key)?.alert).toEqual(
          objects.find((o) => keyOf(o) === key),
        );
      // Dead-lettered: each element that is not an object, with a problem that names its path and no value.
      const letters = h.deadLetters();
      expect(letters).toHaveLength(notObjects);
      for (const letter of letters) {
        expect(letter.failure.stage).toBe('ingest');
        for (const problem of letter.failure.problems ?? []) {
          expect(problem).toMatch(/^(alerts)?\[\d+\]: expected object$/);
          expect(problem).not.toContain(MARK);
        }
      }
      expectNoEcho(h, response);
    }),
    { numRuns: 200 },
  );
});

test('any character in any field: the alert is queued, never refused by SQS (which would answer 503 forever)', async () => {
  // SQS refuses U+FFFE, U+FFFF and other characters outside its set; JSON.stringify leaves them as they are.
  const nasty = fc.constantFrom('\uFFFE', '\uFFFF', '\u0000', '\u001F', '\uD800', '\uDFFF', '\u{1F525}', '\u2028', '\\', '"', '\u{10FFFF}');
  await fc.assert(
    fc.asyncProperty(
      validAlert,
      fc.array(nasty, { minLength: 1, maxLength: 5 }),
      fc.constantFrom('title', 'server_or_region', 'id', 'extra'),
      async (alert, chars, field) => {
        const h = harness();
        const text = chars.join('');
        const value =
          field === 'extra'
            ? { ...alert, [`k${text}`]: text }
            : { ...alert, [field]: `${String(alert[field as keyof typeof alert])}${text}` };
        const response = await h.call(post(JSON.stringify({ alerts: [value] })));
        expect(h.sqs.refused).toEqual([]);
        expect(response.statusCode).toBe(200);
        expect(h.queued().length).toBe(1);
        expect(h.deadLetters()).toEqual([]);
        // What is queued decodes back to exactly what was sent.
        expect(h.queued()[0]?.alert).toEqual(parseJson(JSON.stringify(value)));
      },
    ),
    { numRuns: 200 },
  );
});

test('huge strings and deep nesting: no 5xx; an alert too large for one message is shortened and queued, not lost', async () => {
  const cases: Array<{ what: string; body: string; status: number }> = [];
  const alert = (extra: Record<string, unknown>) => ({
    id: `huge-${MARK}`,
    title: 't',
    created_at: 1,
    severity: 1,
    organization_id: 'o',
    server_or_region: 's',
    source: 'Host',
    ...extra,
  });
  cases.push({ what: 'a 300 KB title', body: JSON.stringify({ alerts: [alert({ title: 'x'.repeat(300_000) + MARK })] }), status: 200 });
  cases.push({
    what: '100 000 three-byte characters',
    body: JSON.stringify({ alerts: [alert({ title: '€'.repeat(100_000) + MARK })] }),
    status: 200,
  });
  cases.push({
    what: 'a title of quotes and backslashes',
    body: JSON.stringify({ alerts: [alert({ title: '"\\'.repeat(150_000) + MARK })] }),
    status: 200,
  });
  cases.push({
    what: 'a malformed alert with a 500 KB field',
    body: JSON.stringify({ alerts: [{ id: 'bad', severity: 'x', note: '"'.repeat(500_000) + MARK }] }),
    status: 200,
  });
  const deep = (depth: number) => `${'['.repeat(depth)}"${MARK}"${']'.repeat(depth)}`;
  cases.push({
    what: 'a valid alert with a field nested 20 000 deep',
    body: `{"alerts":[{"id":"deep-${MARK}","title":"t","created_at":1,"severity":1,"organization_id":"o","server_or_region":"s","source":"Host","x":${deep(20_000)}}]}`,
    status: 200,
  });
  cases.push({ what: 'an invalid element nested 20 000 deep', body: `{"alerts":[${deep(20_000)}]}`, status: 200 });
  cases.push({ what: 'a body nested 100 000 deep', body: deep(100_000), status: 200 });
  cases.push({ what: 'a bare alert nested 100 000 deep', body: `{"id":"deep-${MARK}","x":${deep(100_000)}}`, status: 200 });
  cases.push({ what: 'an object with no alert field', body: `{"x":${deep(100_000)}}`, status: 400 });
  for (const { what, body, status } of cases) {
    const h = harness();
    const response = await h.call(post(body));
    expect({ what, status: response.statusCode }).toEqual({ what, status });
    expect(h.sqs.refused).toEqual([]);
    expectNoEcho(h, response);
    if (status === 200) expect({ what, stored: h.queued().length + h.deadLetters().length }).toEqual({ what, stored: 1 });
    if (status === 400)
      expect(answerOf(response).problems).toEqual([
        '(root): expected {"alerts": [...]} or an alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ]);
  }
});

test('the largest batch ingest takes (MAX_ALERTS_PER_REQUEST) is queued whole; one alert more is 413 naming the limit, nothing queued', async () => {
  const h = harness();
  const alerts = Array.from({ length: MAX_ALERTS_PER_REQUEST + 1 }, (_, i) => ({
    id: `bulk-${i}`,
    title: `Host:  alert ${i}`,
    created_at: 1_700_000_000_000 + i,
    severity: 1 + (i % 3),
    organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
    server_or_region: `web-${i % 50}`,
    source: 'Host',
  }));
  const tooMany = await h.call(post(JSON.stringify({ alerts })));
  expect(tooMany.statusCode).toBe(413);
  expect(answerOf(tooMany)).toEqual({
    error: `the request holds ${MAX_ALERTS_PER_REQUEST + 1} alerts; at most ${MAX_ALERTS_PER_REQUEST} are accepted in one request`,
    limitAlerts: MAX_ALERTS_PER_REQUEST,
  });
  expect(h.queued()).toEqual([]);

  const body = JSON.stringify({ alerts: alerts.slice(0, MAX_ALERTS_PER_REQUEST) });
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  const response = await h.call(post(body));
  const elapsedMs = Date.now() - started;
  expect(response.statusCode).toBe(200);
  expect(answerOf(response)).toEqual({ accepted: MAX_ALERTS_PER_REQUEST, rejected: 0, duplicates: 0 });
  expect(new Set(h.queued().map((q) => q.alert.id)).size).toBe(MAX_ALERTS_PER_REQUEST);
  console.log(
    `property: a ${MAX_ALERTS_PER_REQUEST}-alert batch of ${(Buffer.byteLength(body) / 1_048_576).toFixed(2)} MiB accepted whole in ${elapsedMs} ms (in-memory SQS), rss +${((process.memoryUsage().rss - rssBefore) / 1_048_576).toFixed(0)} MiB`,
  );
});

test('a queue outage is 503 (send again), never 4xx, and says nothing of the input', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(validAlert, { minLength: 1, maxLength: 12 }), async (alerts) => {
      const h = harness();
      h.sqs.down = true;
      const response = await h.call(post(JSON.stringify({ alerts })));
      expect(response.statusCode).toBe(503);
      expect(response.headers?.['retry-after']).toBe('5');
      expectNoEcho(h, response);
    }),
    { numRuns: 30 },
  );
});
