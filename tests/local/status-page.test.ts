import type { RelayStatus } from '../../lib/status/relay-status';
import { escapeHtml, prefersHtml, renderStatusPage, STATUS_PAGE_CSP } from '../../local/status-page';
import type { StatusFields } from '../helpers/factories';
import { aRelayStatus } from '../helpers/factories';

/** Active, 6 incidents (4 today, 2 on 2023-10-20), 3 waiting, no dead letter. */
const aStatus = (fields: StatusFields = {}): RelayStatus =>
  aRelayStatus({
    lastIncidentAt: '2023-11-14T19:00:00.000Z',
    incidentsLast30Days: 6,
    perDay: { '2023-11-14': 4, '2023-10-20': 2 },
    queue: { pending: 3, deadLetter: 0 },
    ...fields,
  });

/** The text of the element with `id`, tags stripped. */
const textOf = (html: string, id: string): string | undefined =>
  new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(?:dd|p)>`)
    .exec(html)?.[1]
    ?.replace(/<[^>]+>/g, '')
    .trim();

const bars = (html: string): Array<{ date: string; count: number; height: number }> =>
  [
    ...html.matchAll(/<rect class="bar[^"]*" data-date="([^"]+)" data-count="(\d+)" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"/g),
  ].map((m) => ({
    date: m[1] ?? '',
    count: Number(m[2]),
    height: Number(m[3]),
  }));

describe('renderStatusPage', () => {
  it('shows an active source as a green dot with "Receiving alerts"', () => {
    const html = renderStatusPage(aStatus());
    expect(html).toMatch(/<span class="dot green"[^>]*><\/span><span class="state-text">Receiving alerts<\/span>/);
    expect(html).toContain('<title>Receiving alerts · Threat Stack → Squadcast relay</title>');
    expect(html).not.toContain('dot grey');
  });

  it('shows an inactive source as a grey dot with "Inactive" and says how to turn it active', () => {
    const html = renderStatusPage(aStatus({ active: false, lastIncidentAt: null, incidentsLast30Days: 0 }));
    expect(html).toMatch(/<span class="dot grey"[^>]*><\/span><span class="state-text">Inactive<\/span>/);
    expect(html).not.toContain('dot green');
    expect(html).toContain('Send a test alert');
    expect(textOf(html, 'last-incident')).toBe('never');
  });

  it('shows the last incident with its age, the 30-day count, the queue depth and the dead-letter count', () => {
    const html = renderStatusPage(aStatus({ queue: { pending: 1, deadLetter: 2 } }));
    expect(textOf(html, 'last-incident')).toBe('2023-11-14T19:00:00.000Z (3 hours ago)');
    expect(html).toContain('<time datetime="2023-11-14T19:00:00.000Z">');
    expect(textOf(html, 'incidents-30-days')).toBe('6');
    expect(textOf(html, 'queue-depth')).toBe('1 alert');
    expect(textOf(html, 'dead-letter')).toMatch(/^2 messages · inspect, then redrive/);
    expect(html).toContain('id="dead-letter" class="warn"');
  });

  it('does not flag an empty dead-letter queue', () => {
    const html = renderStatusPage(aStatus());
    expect(textOf(html, 'dead-letter')).toBe('0 messages');
    expect(html).not.toContain('class="warn"');
  });

  it('draws one bar per day, oldest first, scaled to the busiest day; an empty day is a 1-unit tick', () => {
    const drawn = bars(renderStatusPage(aStatus()));
    expect(drawn).toHaveLength(30);
    expect(drawn[0]?.date).toBe('2023-10-16');
    expect(drawn[29]).toMatchObject({ date: '2023-11-14', count: 4 });
    const busiest = drawn[29]?.height ?? 0;
    const half = drawn.find((bar) => bar.date === '2023-10-20')?.height ?? 0;
    expect(half).toBeCloseTo(busiest / 2, 1);
    expect(drawn.filter((bar) => bar.count === 0).every((bar) => bar.height === 1)).toBe(true);
  });

  it('describes the chart for screen readers, and each bar in a tooltip', () => {
    const html = renderStatusPage(aStatus());
    expect(html).toContain('aria-label="Incidents per day from 2023-10-16 to 2023-11-14 (UTC): 6 incidents in all, at most 4 a day"');
    expect(html).toContain('<title>2023-11-14: 4 incidents</title>');
    expect(html).toContain('<title>2023-10-17: 0 incidents</title>');
  });

  it('needs nothing from the network: no script, stylesheet link, image or remote URL, and a CSP that forbids them', () => {
    const html = renderStatusPage(aStatus());
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(?:src|href)="/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(STATUS_PAGE_CSP)}">`);
    expect(STATUS_PAGE_CSP).toContain("default-src 'none'");
  });

  it('escapes every value it prints', () => {
    const html = renderStatusPage(aStatus({ lastIncidentAt: '<script>alert(1)</script>', checkedAt: '"><b>x</b>' }));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('is a complete document', () => {
    const html = renderStatusPage(aStatus());
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
  });
});

describe('prefersHtml', () => {
  it.each<[string, string | undefined, boolean]>([
    ['Chromium navigating', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8', true],
    ['Firefox navigating', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['only HTML', 'text/html', true],
    ['HTML preferred by quality', 'application/json;q=0.5, text/html', true],
    ['text/* over JSON', 'text/*, application/json;q=0.1', true],
    ['no header (node fetch sends */*; some clients none)', undefined, false],
    ['empty header', '', false],
    ['curl and fetch', '*/*', false],
    ['JSON', 'application/json', false],
    ['a tie goes to JSON', 'application/json, text/html', false],
    ['JSON preferred by quality', 'text/html;q=0.5, application/json', false],
    ['HTML refused', 'text/html;q=0, */*', false],
    ['garbage', ';;, /, q=x', false],
  ])('%s: %p -> %p', (_name, accept, html) => {
    expect(prefersHtml(accept)).toBe(html);
  });
});
