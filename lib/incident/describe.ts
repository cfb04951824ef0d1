import type { AlertIssue, ReadAlert } from '../alert/read-alert';
import { isDocumentedField } from '../alert/read-alert';
import { jsonStringBytes, plainText, truncate } from '../common/text';
import type { Place } from './markdown';
import { codeSpan, freeText } from './markdown';

/**
 * The incident's description: a Markdown table a responder can read, search and copy from at 3 a.m.,
 * rendered or not (see ./markdown.ts for what is escaped and why).
 *
 * One published Squadcast client records that a description may be limited to about 15,000 bytes
 * (docs/reference/squadcast-incident-webhook.md): it stays within MAX_DESCRIPTION_BYTES, counted as
 * the JSON string it travels in. What is cut first: each value at its own length (the title at 1,000
 * characters, other values at 500, field names at 100); then the rows of unknown extra fields, last
 * first, with a row saying how many; then every value's length, halved until it fits.
 */
export const MAX_DESCRIPTION_BYTES = 14_000;

/** At most this many relay notes are listed; a line says how many more there were. */
const MAX_NOTES_LISTED = 20;

export const FOOTER =
  'Sent by the Threat Stack → Squadcast relay. Threat Stack sends no resolve notifications: resolve this incident by hand.';

const SEVERITY_WORDS = { 1: 'High', 2: 'Medium', 3: 'Low' } as const;

interface Caps {
  readonly title: number;
  readonly value: number;
  readonly key: number;
}
const FULL: Caps = { title: 1_000, value: 500, key: 100 };
const SMALLEST: Caps = { title: 20, value: 20, key: 20 };

/** What the first line says when the title cannot be shown: the source, when there is one. */
export const fallbackTitle = (alert: ReadAlert): string => {
  const source = plainText(alert.source ?? '').trim();
  return source === '' ? 'Threat Stack alert' : `Threat Stack ${source} alert`;
};

const row = (label: string, value: string): string => `| ${label} | ${value} |`;

/** An earlier alert delivered under the same id (lib/alert/fingerprint.ts): this one differs, or is a new occurrence. */
export interface EarlierDelivery {
  readonly deliveredAt: Date;
  /** The shown fields that changed since; empty for the same content paged again after its hold. */
  readonly changed: readonly string[];
  /**
   * This alert's version: the first digits of its fingerprint. Its incident's `event_id` carries it,
   * so that Squadcast's key-based deduplication on `event_id` never folds it into the earlier incident.
   */
  readonly version: string;
}

/** The line that says an alert's id was used before, and what changed. Field names are the documented ones: no escaping needed. */
const earlierLine = (earlier: EarlierDelivery): string => {
  const at = codeSpan(earlier.deliveredAt.toISOString(), 'paragraph');
  return earlier.changed.length > 0
    ? `**This alert reuses the id of an earlier alert**, delivered at ${at}. Changed since then: ${earlier.changed.join(', ')}.`
    : `**An alert with the same id and content was delivered at ${at}**; this is a new occurrence, paged again.`;
};

/** Renders one alert with the given caps. */
const render = (alert: ReadAlert, caps: Caps, earlier: EarlierDelivery | undefined) => {
  const cut = (text: string, max = caps.value): string => plainText(truncate(text, max));
  const code = (text: string, place: Place = 'table-cell'): string => codeSpan(cut(text), place);
  const text = (value: string, place: Place = 'table-cell'): string => freeText(cut(value), place);
  const json = (value: unknown): string => JSON.stringify(value) ?? 'null';
  const present = (key: string): boolean => Object.hasOwn(alert.fields, key);
  /** A field that did not parse, shown as the JSON it was sent as. */
  const asSent = (key: string): string => (present(key) ? `${code(json(alert.fields[key]))} as sent` : '(missing)');
  const name = (key: string, place: Place): string => freeText(cut(key, caps.key), place);

  // A title of nothing a screen shows (spaces, control characters) is no title: the incident's message says the same.
  const title = plainText(alert.title ?? '').trim() ? (alert.title ?? '') : fallbackTitle(alert);
  const severity =
    alert.severity === undefined ? `Unknown: ${asSent('severity')}` : `${SEVERITY_WORDS[alert.severity]} (${alert.severity})`;
  const organizationId = alert.organizationId === undefined ? asSent('organization_id') : code(alert.organizationId);

  const createdAt = ((): string[] => {
    const at = alert.createdAt;
    const received = row('Received by the relay', code(alert.receivedAt.toISOString()));
    if (at === undefined) return [row('Created at', asSent('created_at')), received];
    if (at.kind === 'milliseconds') return [row('Created at', code(at.at.toISOString()))];
    if (at.kind === 'seconds') return [row('Created at', `${code(at.at.toISOString())} (sent in seconds: ${code(String(at.sent))})`)];
    const reading = at.at === undefined ? '' : ` (as epoch milliseconds: ${code(at.at.toISOString())})`;
    return [row('Created at', `${code(String(at.sent))} as sent${reading}`), received];
  })();

  const sentId = alert.fields.id;
  const idRows =
    alert.id === sentId
      ? [row('Threat Stack alert id', code(alert.id))]
      : [row('Alert id (derived by the relay)', code(alert.id)), ...(present('id') ? [row('Alert id as sent', asSent('id'))] : [])];

  /** A documented optional field that was sent but did not parse still gets its row. */
  const unreadableOptional = alert.unreadable
    .filter((issue) => issue.field === 'organization_name' || issue.field === 'organization_Name')
    .map((issue) => row(issue.field, asSent(issue.field)));

  const known = [
    row('Severity', severity),
    row('Source', alert.source === undefined ? asSent('source') : text(alert.source)),
    ...(alert.title === undefined && present('title') ? [row('Title', asSent('title'))] : []),
    row(
      alert.source === 'CloudTrail' ? 'Region' : 'Host or region',
      alert.serverOrRegion === undefined ? asSent('server_or_region') : code(alert.serverOrRegion),
    ),
    row('Organization', alert.organizationName === undefined ? organizationId : `${text(alert.organizationName)} (${organizationId})`),
    ...unreadableOptional,
    ...createdAt,
    ...idRows,
  ];

  const extras = Object.entries(alert.fields)
    .filter(([key]) => !isDocumentedField(key))
    .map(([key, value]) => row(name(key, 'table-cell'), typeof value === 'string' ? text(value) : code(json(value))));

  const issueList = (issues: readonly AlertIssue[]): string =>
    issues.map((issue) => `${name(issue.field, 'paragraph')} (${issue.problem})`).join(', ');
  const listedNotes = alert.notes.slice(0, MAX_NOTES_LISTED);
  const moreNotes = alert.notes.length - listedNotes.length;

  const head = [
    `**${freeText(cut(title, caps.title), 'paragraph')}**`,
    '',
    ...(earlier === undefined ? [] : [earlierLine(earlier), '']),
    ...(alert.unreadable.length === 0
      ? []
      : [`**Fields the relay could not read:** ${issueList(alert.unreadable)}. They are shown as sent below.`, '']),
    '| Field | Value |',
    '| --- | --- |',
    ...known,
  ];
  const tail = [
    '',
    ...(alert.notes.length === 0
      ? []
      : [`**Notes from the relay:** ${issueList(listedNotes)}${moreNotes > 0 ? `, and ${moreNotes} more` : ''}.`, '']),
    FOOTER,
  ];
  return { head, extras, tail };
};

const fits = (lines: readonly string[]): boolean => jsonStringBytes(lines.join('\n')) <= MAX_DESCRIPTION_BYTES;

/** The description, within MAX_DESCRIPTION_BYTES: see the module comment for what is cut first. */
export const describe = (alert: ReadAlert, earlier?: EarlierDelivery): string => {
  for (let caps = FULL; ; caps = halve(caps)) {
    const { head, extras, tail } = render(alert, caps, earlier);
    if (fits([...head, ...extras, ...tail])) return [...head, ...extras, ...tail].join('\n');
    const omitted = (n: number): string => row('…', `${n} more fields left out to keep this description under 15,000 bytes`);
    if (fits([...head, omitted(extras.length), ...tail])) {
      // Rows are independent lines: keep as many as fit, in order, then say how many were left out.
      let budget = MAX_DESCRIPTION_BYTES - jsonStringBytes([...head, omitted(extras.length), ...tail].join('\n'));
      const kept: string[] = [];
      for (const extra of extras) {
        budget -= jsonStringBytes(`\n${extra}`);
        if (budget < 0) break;
        kept.push(extra);
      }
      return [...head, ...kept, omitted(extras.length - kept.length), ...tail].join('\n');
    }
    if (caps === SMALLEST) return lastResort([...head, omitted(extras.length), ...tail]);
  }
};

const halve = (caps: Caps): Caps =>
  caps.title <= SMALLEST.title && caps.value <= SMALLEST.value
    ? SMALLEST
    : {
        title: Math.max(SMALLEST.title, Math.floor(caps.title / 2)),
        value: Math.max(SMALLEST.value, Math.floor(caps.value / 2)),
        key: Math.max(SMALLEST.key, Math.floor(caps.key / 2)),
      };

/** Whole lines from the top, then the footer: every line is a complete block or table row, so the Markdown stays valid. */
const lastResort = (lines: readonly string[]): string => {
  const kept: string[] = [];
  for (const line of lines.slice(0, -1)) {
    if (!fits([...kept, line, '', FOOTER])) break;
    kept.push(line);
  }
  return [...kept, '', FOOTER].join('\n');
};
