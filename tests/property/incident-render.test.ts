import fc from 'fast-check';
import sampleBatch from '../../events/sample-batch.json';
import { decodeWebhookBody } from '../../lib/alert/decode-webhook';
import type { ReadAlert } from '../../lib/alert/read-alert';
import { isDocumentedField, readAlert } from '../../lib/alert/read-alert';
import { parseJson } from '../../lib/common/json';
import { jsonStringBytes, plainText } from '../../lib/common/text';
import { MAX_DESCRIPTION_BYTES } from '../../lib/incident/describe';
import { incidentBytes, MAX_INCIDENT_BYTES, toIncident } from '../../lib/incident/to-incident';
import capture2017 from '../fixtures/published/capture-2017-batch.json';
import f5Payloads from '../fixtures/published/f5-webhooks-payloads.json';
import supportArticle from '../fixtures/published/support-article-bare-alert.json';
import bareAlert from '../fixtures/webhook-bare-alert.json';
import batch from '../fixtures/webhook-batch.json';
import topLevelArray from '../fixtures/webhook-top-level-array.json';
import { brokenAlert, validAlert } from '../helpers/alert-arbitraries';
import { backslashEscapes, renderDescription } from '../helpers/markdown-render';

/**
 * Every description is rendered with a CommonMark implementation (markdown-it, GFM tables, raw HTML
 * and linkify on) and read back: alert text never makes a link, an image, HTML, emphasis or
 * strikethrough; the table has the expected rows; the rendered rows hold the values verbatim; and
 * the plain-text view (the description as sent) has no backslash escape of an ordinary character.
 */
const RECEIVED_AT = new Date('2026-12-01T00:00:00.000Z');

const FIXTURES: ReadonlyArray<readonly [string, unknown]> = [
  ['published: support article, bare alert with numeric strings and organization_Name', supportArticle],
  ['published: 2017 capture, JSON numbers', capture2017],
  ['published: F5-era "Webhooks Payloads", created_at as a string', f5Payloads],
  ['tests/fixtures/webhook-batch.json', batch],
  ['tests/fixtures/webhook-bare-alert.json', bareAlert],
  ['tests/fixtures/webhook-top-level-array.json', topLevelArray],
  ['events/sample-batch.json', sampleBatch],
];

const alertsOf = (body: unknown): ReadAlert[] => {
  const decoded = decodeWebhookBody(body, RECEIVED_AT);
  if (decoded.kind === 'invalid') throw new Error(`fixture does not decode: ${decoded.problems.join('; ')}`);
  return decoded.value.alerts.map(({ read }) => read);
};

/** What a value looks like once shown: control characters removed, as the description shows it. */
const shown = (value: string): string => plainText(value);

const stats = { descriptions: 0, fixtures: 0, generated: 0, degraded: 0, maxBytes: 0, links: 0, html: 0 };

/** The checks every description passes. Values longer than any cut are compared only when short enough to be shown whole. */
const checkRendered = (alert: ReadAlert): void => {
  const incident = toIncident(alert);
  const { description } = incident;
  const rendered = renderDescription(description);
  stats.descriptions += 1;
  stats.links += rendered.links;
  stats.html += rendered.htmlElements;
  if (alert.unreadable.length + alert.notes.length > 0) stats.degraded += 1;
  stats.maxBytes = Math.max(stats.maxBytes, jsonStringBytes(description));

  // No link, image, HTML, emphasis or strikethrough: the only markup is the relay's own bold lines.
  expect({ links: rendered.links, images: rendered.images, html: rendered.htmlElements }).toEqual({ links: 0, images: 0, html: 0 });
  expect({ emphasis: rendered.emphasis, strikethrough: rendered.strikethrough }).toEqual({ emphasis: 0, strikethrough: 0 });
  const boldLines = 1 + (alert.unreadable.length > 0 ? 1 : 0) + (alert.notes.length > 0 ? 1 : 0);
  expect(rendered.strong).toBe(boldLines);

  // The table: a header and one row per field, two cells each, the rows the mapping documents.
  const [header, ...rows] = rendered.rows;
  expect(header).toEqual(['Field', 'Value']);
  for (const row of rows) expect(row).toHaveLength(2);
  const label = (name: string): string | undefined => rows.find((row) => row[0] === name)?.[1];
  const labels = rows.map((row) => row[0]);
  expect(labels.slice(0, 2)).toEqual(['Severity', 'Source']);
  expect(labels).toContain(alert.source === 'CloudTrail' ? 'Region' : 'Host or region');
  expect(labels).toContain('Organization');
  expect(labels).toContain('Created at');
  expect(labels.some((name) => name === 'Threat Stack alert id' || name === 'Alert id (derived by the relay)')).toBe(true);

  // Verbatim: what the rendered table shows is the value as sent (control characters aside).
  const short = (value: string | undefined): value is string => value !== undefined && value.length <= 200;
  if (short(alert.serverOrRegion) && shown(alert.serverOrRegion) !== '')
    expect(label(alert.source === 'CloudTrail' ? 'Region' : 'Host or region')).toBe(shown(alert.serverOrRegion));
  if (alert.id === alert.fields.id) {
    if (shown(alert.id) !== '') expect(label('Threat Stack alert id')).toBe(shown(alert.id));
  } else expect(label('Alert id (derived by the relay)')).toBe(alert.id);
  if (short(alert.organizationId) && shown(alert.organizationId) !== '')
    expect(label('Organization')).toContain(shown(alert.organizationId));
  if (alert.createdAt?.kind === 'milliseconds') expect(label('Created at')).toBe(alert.createdAt.at.toISOString());
  if (short(alert.source) && shown(alert.source).trim() !== '') expect(label('Source')).toBe(shown(alert.source).trim());
  if (short(alert.title) && shown(alert.title).trim() !== '') expect(rendered.paragraphs[0]).toBe(shown(alert.title).trim());
  // A row is found by its label: only a field whose name no other field also shows as (`"\u0000a"` shows as `a`).
  const shownNames = Object.keys(alert.fields).map((key) => shown(key).trim());
  const onlyOne = (key: string): boolean => shownNames.filter((shownKey) => shownKey === key).length === 1;
  for (const [key, value] of Object.entries(alert.fields))
    if (
      !isDocumentedField(key) &&
      typeof value === 'string' &&
      short(value) &&
      shown(value).trim() !== '' &&
      shown(key).trim() === key &&
      onlyOne(key)
    )
      expect(label(key)).toBe(shown(value).trim());

  // Plain-text view: the relay adds no backslash but one before a pipe in a table cell. Every other backslash
  // is a value's own (as text, or in the JSON of a value shown as sent; a field name, or the source in a title
  // that falls back to it, can show twice).
  const count = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0;
  const allowed = Object.entries(alert.fields).reduce(
    (sum, [key, value]) => sum + 2 * (count(key, /[\\|]/g) + count(JSON.stringify(value) ?? '', /[\\|]/g)),
    0,
  );
  expect(count(description, /\\/g)).toBeLessThanOrEqual(allowed);
  if (allowed === 0) expect(backslashEscapes(description)).toEqual([]);

  expect(jsonStringBytes(description)).toBeLessThanOrEqual(MAX_DESCRIPTION_BYTES);
  expect(incidentBytes(incident)).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
};

describe("the fixtures, Threat Stack's published samples among them, render cleanly", () => {
  it.each(FIXTURES)('%s', (_name, body) => {
    const alerts = alertsOf(body);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      checkRendered(alert);
      stats.fixtures += 1;
      const { description } = toIncident(alert);
      // Nothing in a published sample needs a backslash, and every machine value is a plain substring.
      expect(description).not.toContain('\\');
      for (const value of [alert.id, alert.serverOrRegion, alert.organizationId, alert.createdAt?.at?.toISOString()])
        expect(description).toContain(value);
    }
  });

  it("shows the 2017 capture's values verbatim in the rendered table", () => {
    const [alert] = alertsOf(capture2017);
    const rows = Object.fromEntries(renderDescription(toIncident(alert as ReadAlert).description).rows);
    expect(rows).toMatchObject({
      Severity: 'Medium (2)',
      'Host or region': 'ip-172-31-26-113',
      'Created at': '2017-12-06T16:12:41.417Z',
      'Threat Stack alert id': '491a4393-daa0-11e7-9b7b-031f88193b03',
    });
  });
});

/** Text that CommonMark, GFM or a linkifier would turn into markup, mixed with arbitrary text. */
const MARKUP_SAMPLES = [
  'http://evil.example/phish',
  'https://evil.example/a_(b)',
  'www.evil.example',
  'root@evil.example',
  'mailto:x@evil.example',
  '//evil.example/x',
  'evil.com',
  'sshd.service',
  '<b>bold</b>',
  '<img src=x onerror=alert(1)>',
  '<http://evil.example>',
  '<!-- c -->',
  '<?php x ?>',
  '&amp;',
  '&#x41;',
  '&copy',
  '*em*',
  '**strong**',
  '_em_',
  '__strong__',
  'snake_case',
  '~~gone~~',
  '~single~',
  '`code`',
  '``',
  '[x](http://evil.example)',
  '![i](http://evil.example/i.png)',
  '[x]: http://evil.example',
  '[x]',
  'a|b',
  '|',
  '\\',
  '\\*',
  'C:\\temp\\x',
  '# h',
  '> q',
  '- l',
  '1. n',
  '---',
  '===',
  '    indented',
  'AT&T',
  'a  b',
  '\u00a0nbsp\u00a0',
  'line\nbreak',
  'tab\there',
  '(x)',
  '!',
];
const markupWord = fc.constantFrom(...MARKUP_SAMPLES);
const hostileText = fc.oneof(
  markupWord,
  fc.array(fc.oneof(markupWord, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 6 }).map((words) => words.join(' ')),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

const hostileAlert = fc
  .record({
    id: fc.oneof(fc.uuid(), hostileText),
    title: hostileText,
    created_at: fc.oneof(
      fc.integer({ min: 1_262_304_000_000, max: 1_764_547_200_000 }),
      fc.integer({ min: 1_262_304_000, max: 1_764_547_200 }),
    ),
    severity: fc.constantFrom(1, 2, 3, '2', 4, 'high', null),
    organization_id: hostileText,
    server_or_region: hostileText,
    source: fc.oneof(fc.constantFrom('Host', 'CloudTrail'), hostileText),
    organization_name: hostileText,
    extra: fc.dictionary(
      fc.oneof(markupWord, fc.string({ minLength: 1, maxLength: 10 })),
      fc.oneof(hostileText, fc.jsonValue({ maxDepth: 2 })),
      {
        maxKeys: 3,
      },
    ),
  })
  .map(({ extra, ...fields }) => ({ ...extra, ...fields }));

describe('generated alerts render cleanly', () => {
  it.each<[string, fc.Arbitrary<Record<string, unknown>>]>([
    ['alerts full of markup, links and HTML in every field', hostileAlert],
    ["well-formed alerts in every documented shape (the ingest property test's)", validAlert],
    ['alerts broken in one field (degraded)', brokenAlert],
  ])('%s', (_name, arbitrary) => {
    fc.assert(
      fc.property(arbitrary, (raw) => {
        // What the relay receives is JSON.
        const fields = parseJson(JSON.stringify(raw)) as Record<string, unknown>;
        checkRendered(readAlert(fields, { receivedAt: RECEIVED_AT }));
        stats.generated += 1;
      }),
      { numRuns: 400 },
    );
  });
});

afterAll(() => {
  console.log(
    `render check: ${stats.descriptions} descriptions rendered with markdown-it (${stats.fixtures} from fixtures, ${stats.generated} generated); links from alert text ${stats.links}, HTML elements ${stats.html}; ${stats.degraded} degraded; largest description ${stats.maxBytes} bytes (limit ${MAX_DESCRIPTION_BYTES})`,
  );
});
