import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Page } from 'playwright-core';
import type { BrowserSession } from '../helpers/browser';
import { browserTestNamed, hasBrowser, openBrowser, SCREENSHOTS } from '../helpers/browser';
import { emulatorClients, stopLocalStack } from '../helpers/emulators';
import type { RelayOnFakes } from '../helpers/local-processes';
import { eventually, startRelayOnFakes } from '../helpers/local-processes';

/**
 * The status page as a person sees it: the local stack (`npm start`'s entry point) with the SQS
 * and DynamoDB emulators and a fake Squadcast, opened in headless Chromium driven by
 * playwright-core. Screenshots go to tmp/screenshots/ (gitignored; CI keeps them as an artifact).
 */
/** Browser globals used inside `evaluate` callbacks, which run in the page (the project compiles without the DOM lib). */
declare function getComputedStyle(element: unknown): { readonly backgroundColor: string; readonly color: string };
declare const document: { readonly scripts: { readonly length: number }; querySelectorAll(selector: string): { readonly length: number } };

const browserTest = browserTestNamed('status page');
const TOKEN = 'status-page-token-0123456789';
const PREFIX = 'status-e2e';
const DAY_MS = 86_400_000;
const GREEN = 'rgb(46, 125, 50)';
const GREY = 'rgb(154, 163, 173)';

let stack: RelayOnFakes;
let session: BrowserSession | undefined;
let page: Page;
let requested: string[] = [];

const utcDate = (daysAgo: number): string => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);

type Status = { queue: { pending: number; deadLetter: number }; incidentsLast30Days: number };
const status = async (): Promise<Status> => (await (await fetch(`${stack.relay.baseUrl}/status`)).json()) as Status;

const alert = (id: string): Record<string, unknown> => ({
  id,
  title: `Host:  status page alert ${id}`,
  created_at: Date.now(),
  severity: 2,
  organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
  server_or_region: 'web-1',
  source: 'Host',
});

/** Past deliveries, written as deliver records them, so that the chart has history to show. */
const seedPastIncidents = async (daysAgo: readonly number[]): Promise<void> => {
  const clients = emulatorClients(stack.emulators);
  const { dynamodb } = clients;
  try {
    for (const [i, days] of daysAgo.entries()) {
      const at = new Date(Date.now() - days * DAY_MS).toISOString();
      await dynamodb.send(
        new PutItemCommand({
          TableName: `${PREFIX}-ledger`,
          Item: {
            pk: { S: `alert#seeded-${i}` },
            state: { S: 'delivered' },
            activity: { S: 'delivered' },
            deliveredAt: { S: at },
            expiresAt: { N: String(Math.floor(Date.now() / 1000) + 86_400) },
          },
        }),
      );
    }
  } finally {
    clients.destroy();
  }
};

const screenshot = async (name: string): Promise<string> => {
  const path = join(SCREENSHOTS, name);
  await page.screenshot({ path, fullPage: true });
  console.log(`status page screenshot: ${path}`);
  return path;
};

const openStatusPage = async (): Promise<void> => {
  const response = await page.goto(`${stack.relay.baseUrl}/status`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
  expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
};

const dotColor = (): Promise<string> => page.locator('#state .dot').evaluate((dot) => getComputedStyle(dot).backgroundColor);
const barCounts = (): Promise<Record<string, number>> =>
  page
    .locator('svg.chart rect.bar')
    .evaluateAll((bars) =>
      Object.fromEntries(bars.map((bar) => [bar.getAttribute('data-date') ?? '', Number(bar.getAttribute('data-count'))])),
    );

beforeAll(async () => {
  if (!hasBrowser) return;
  stack = await startRelayOnFakes({ token: TOKEN, prefix: PREFIX });
  session = await openBrowser({ width: 900, height: 900 });
  ({ page, requested } = session);
}, 90_000);

afterAll(async () => {
  await session?.close();
  if (stack !== undefined) await stopLocalStack(stack);
});

browserTest('a new relay shows a grey dot, "Inactive", an empty 30-day chart and empty queues', async () => {
  await openStatusPage();
  await expect(page.locator('#state .state-text').textContent()).resolves.toBe('Inactive');
  expect(await dotColor()).toBe(GREY);
  await expect(page.locator('#last-incident').textContent()).resolves.toBe('never');
  await expect(page.locator('#queue-depth').textContent()).resolves.toBe('0 alerts');
  await expect(page.locator('#dead-letter').textContent()).resolves.toBe('0 messages');
  const bars = await barCounts();
  expect(Object.keys(bars)).toHaveLength(30);
  expect(Object.values(bars).every((count) => count === 0)).toBe(true);
  expect(Object.keys(bars).at(-1)).toBe(utcDate(0));
  await screenshot('status-page-inactive.png');
});

browserTest(
  'after deliveries: a green dot, "Receiving alerts", the last incident, incidents per day and the dead-letter count',
  async () => {
    await seedPastIncidents([3, 3, 10, 25, 25, 25]);
    stack.squadcast.respondWith((request) => (request.body.includes('"event_id":"page-refused"') ? { status: 400 } : { status: 200 }));
    const response = await fetch(`${stack.relay.baseUrl}/threatstack/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ alerts: [alert('page-1'), alert('page-2'), alert('page-refused')] }),
    });
    expect(response.status).toBe(200);
    await eventually('two delivered, one dead-lettered', async () => {
      const now = await status();
      return now.queue.pending === 0 && now.queue.deadLetter === 1 && now.incidentsLast30Days === 8;
    });

    await openStatusPage();
    await expect(page.locator('#state .state-text').textContent()).resolves.toBe('Receiving alerts');
    expect(await dotColor()).toBe(GREEN);
    await expect(page.title()).resolves.toContain('Receiving alerts');
    await expect(page.locator('#last-incident time').getAttribute('datetime')).resolves.toMatch(new RegExp(`^${utcDate(0)}T`));
    await expect(page.locator('#incidents-30-days').textContent()).resolves.toBe('8');
    await expect(page.locator('#queue-depth').textContent()).resolves.toBe('0 alerts');
    await expect(page.locator('#dead-letter').textContent()).resolves.toMatch(/^1 message/);
    expect(await page.locator('#dead-letter').evaluate((dd) => getComputedStyle(dd).color)).not.toBe(
      await page.locator('#queue-depth').evaluate((dd) => getComputedStyle(dd).color),
    );

    const bars = await barCounts();
    expect(bars).toMatchObject({ [utcDate(0)]: 2, [utcDate(3)]: 2, [utcDate(10)]: 1, [utcDate(25)]: 3, [utcDate(1)]: 0 });
    expect(Object.values(bars).reduce((sum, count) => sum + count, 0)).toBe(8);
    // The busiest day's bar reaches the top of the plot; an empty day stays a 1-pixel tick.
    const heights = await page
      .locator('svg.chart rect.bar')
      .evaluateAll((rects) =>
        Object.fromEntries(
          rects.map((rect) => [
            rect.getAttribute('data-date') ?? '',
            (rect as unknown as { getBBox(): { height: number } }).getBBox().height,
          ]),
        ),
      );
    expect(heights[utcDate(25)]).toBeGreaterThan(heights[utcDate(0)] ?? Infinity);
    expect(heights[utcDate(1)]).toBe(1);
    await screenshot('status-page.png');
  },
);

browserTest('the page is self-contained: no script, and no request but the page itself', () => {
  expect(requested.length).toBeGreaterThan(0);
  expect(requested.every((url) => url === `${stack.relay.baseUrl}/status`)).toBe(true);
  return expect(
    page.evaluate(() => document.scripts.length + document.querySelectorAll('link[rel=stylesheet], img, iframe').length),
  ).resolves.toBe(0);
});

browserTest('GET /status stays JSON for scripts: fetch, curl and an explicit JSON Accept', async () => {
  for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
    const response = await fetch(`${stack.relay.baseUrl}/status`, accept === undefined ? {} : { headers: { accept } });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({ source: 'threatstack', active: true });
  }
  const html = await fetch(`${stack.relay.baseUrl}/status`, { headers: { accept: 'text/html' } });
  expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(await html.text()).toMatch(/^<!doctype html>/);
});
