import type { DayCount, RelayStatus } from '../lib/status/relay-status';
import { describeAge } from './describe-time';

/**
 * The status as one self-contained HTML page: inline CSS and an inline SVG chart, no script,
 * no external asset, so it renders offline and under this policy (sent as a header too).
 */
export const STATUS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const REFRESH_SECONDS = 30;

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

type MediaRange = { readonly type: string; readonly subtype: string; readonly q: number };

const parseAccept = (accept: string): MediaRange[] =>
  accept.split(',').flatMap((part) => {
    const [range = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const [type, subtype] = range.split('/');
    if (!type || !subtype) return [];
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return Number.isFinite(q) ? [{ type, subtype, q: Math.min(1, Math.max(0, q)) }] : [];
  });

/** The quality of `type/subtype` under `ranges`: the most specific matching range decides (RFC 9110 §12.5.1). */
const qualityOf = (ranges: readonly MediaRange[], type: string, subtype: string): number => {
  const specificity = (r: MediaRange): number =>
    r.type === type && r.subtype === subtype ? 3 : r.type === type && r.subtype === '*' ? 2 : r.type === '*' ? 1 : 0;
  const best = ranges.filter((r) => specificity(r) > 0).sort((a, b) => specificity(b) - specificity(a))[0];
  return best?.q ?? 0;
};

/**
 * HTML only when the client prefers it to JSON: a browser (`text/html,...,*\/*;q=0.8`) gets the
 * page; `fetch`, curl (`*\/*`), a missing header or a tie get JSON, which scripts rely on.
 */
export const prefersHtml = (accept: string | undefined): boolean => {
  if (accept === undefined || accept.trim() === '') return false;
  const ranges = parseAccept(accept);
  const html = qualityOf(ranges, 'text', 'html');
  return html > 0 && html > qualityOf(ranges, 'application', 'json');
};

const CHART = { width: 640, height: 180, left: 36, right: 8, top: 14, bottom: 26 } as const;

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** Bars for each day; a day without incidents shows as a thin grey tick so that every day has its slot. */
const renderChart = (days: readonly DayCount[]): string => {
  const max = Math.max(1, ...days.map((d) => d.count));
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const plotHeight = CHART.height - CHART.top - CHART.bottom;
  const slot = plotWidth / Math.max(1, days.length);
  const baseline = CHART.top + plotHeight;
  const bars = days
    .map((day, i) => {
      const x = (CHART.left + i * slot + slot * 0.15).toFixed(1);
      const width = (slot * 0.7).toFixed(1);
      const height = day.count === 0 ? 1 : Math.max(2, (day.count / max) * plotHeight);
      const label = `${day.date}: ${plural(day.count, 'incident', 'incidents')}`;
      return `<rect class="bar${day.count === 0 ? ' empty' : ''}" data-date="${day.date}" data-count="${day.count}" x="${x}" y="${(baseline - height).toFixed(1)}" width="${width}" height="${height.toFixed(1)}"><title>${escapeHtml(label)}</title></rect>`;
    })
    .join('');
  const first = days[0]?.date ?? '';
  const last = days[days.length - 1]?.date ?? '';
  const total = days.reduce((sum, d) => sum + d.count, 0);
  return [
    `<svg class="chart" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-label="Incidents per day from ${first} to ${last} (UTC): ${plural(total, 'incident', 'incidents')} in all, at most ${max} a day">`,
    `<line class="axis" x1="${CHART.left}" y1="${baseline}" x2="${CHART.width - CHART.right}" y2="${baseline}"/>`,
    `<line class="grid" x1="${CHART.left}" y1="${CHART.top}" x2="${CHART.width - CHART.right}" y2="${CHART.top}"/>`,
    `<text class="tick" x="${CHART.left - 6}" y="${CHART.top + 4}" text-anchor="end">${max}</text>`,
    `<text class="tick" x="${CHART.left - 6}" y="${baseline + 4}" text-anchor="end">0</text>`,
    bars,
    `<text class="tick" x="${CHART.left}" y="${CHART.height - 6}">${escapeHtml(first)}</text>`,
    `<text class="tick" x="${CHART.width - CHART.right}" y="${CHART.height - 6}" text-anchor="end">${escapeHtml(last)} (today)</text>`,
    '</svg>',
  ].join('');
};

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5f6b7a; --card: #ffffff; --bg: #f4f6f8; --line: #d8dee4; --bar: #1976d2; --empty: #c3cad3; --green: #2e7d32; --grey: #9aa3ad; --warn: #c62828; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9aa7b4; --card: #161b22; --bg: #0d1117; --line: #30363d; --bar: #58a6ff; --empty: #3b434c; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 760px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.25rem; margin: 0 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem 1.5rem; margin-bottom: 1rem; }
.state { display: flex; align-items: center; gap: .6rem; font-size: 1.4rem; font-weight: 600; margin: 0; }
.dot { width: 16px; height: 16px; border-radius: 50%; flex: none; }
.dot.green { background: var(--green); box-shadow: 0 0 0 4px color-mix(in srgb, var(--green) 25%, transparent); }
.dot.grey { background: var(--grey); }
.explain, .muted, footer { color: var(--muted); font-size: .9rem; }
.explain { margin: .5rem 0 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1.5rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; }
dd.warn { color: var(--warn); font-weight: 600; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
.chart { width: 100%; height: auto; display: block; }
.chart .bar { fill: var(--bar); }
.chart .bar.empty { fill: var(--empty); }
.chart .axis { stroke: var(--line); }
.chart .grid { stroke: var(--line); stroke-dasharray: 3 3; }
.chart .tick { fill: var(--muted); font-size: 11px; }
code { font-size: .85em; }
`;

/** Renders the status page. Pure: every value shown comes from `status`. */
export const renderStatusPage = (status: RelayStatus): string => {
  const checkedAt = new Date(status.checkedAt);
  const stateText = status.active ? 'Receiving alerts' : 'Inactive';
  const lastIncident =
    status.lastIncidentAt === null
      ? 'never'
      : `<time datetime="${escapeHtml(status.lastIncidentAt)}">${escapeHtml(status.lastIncidentAt)}</time> <span class="muted">(${escapeHtml(describeAge(new Date(status.lastIncidentAt), checkedAt))})</span>`;
  const deadLetter = status.queue.deadLetter;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(STATUS_PAGE_CSP)}">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>${escapeHtml(stateText)} · Threat Stack → Squadcast relay</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Threat Stack → Squadcast relay</h1>
<section class="card" aria-labelledby="state">
<p class="state" id="state" data-active="${status.active}"><span class="dot ${status.active ? 'green' : 'grey'}" aria-hidden="true"></span><span class="state-text">${escapeHtml(stateText)}</span></p>
<p class="explain">${
    status.active
      ? 'An incident was recorded in the last 30 days, so Squadcast shows this alert source with a green dot.'
      : 'No incident in the last 30 days: Squadcast shows this alert source as inactive until one arrives. Send a test alert to turn it active.'
  } Active means recent traffic, not health.</p>
</section>
<section class="card">
<dl>
<dt>Last incident</dt><dd id="last-incident">${lastIncident}</dd>
<dt>Incidents, last 30 days</dt><dd id="incidents-30-days">${status.incidentsLast30Days}</dd>
<dt>Waiting for delivery (queue)</dt><dd id="queue-depth">${plural(status.queue.pending, 'alert', 'alerts')}</dd>
<dt>Dead-letter queue</dt><dd id="dead-letter"${deadLetter > 0 ? ' class="warn"' : ''}>${plural(deadLetter, 'message', 'messages')}${deadLetter > 0 ? ' · inspect, then redrive (docs/operator-guide.md, "Dead-letter queue")' : ''}</dd>
</dl>
</section>
<section class="card" aria-labelledby="chart-title">
<h2 id="chart-title">Incidents per day, last ${status.incidentsPerDay.length} days (UTC)</h2>
${renderChart(status.incidentsPerDay)}
</section>
<footer>Checked at <time datetime="${escapeHtml(status.checkedAt)}">${escapeHtml(status.checkedAt)}</time> · refreshes every ${REFRESH_SECONDS} s · the same facts as JSON: <code>curl ${'&lt;relay&gt;'}/status</code></footer>
</main>
</body>
</html>
`;
};
