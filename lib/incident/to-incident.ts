import type { Alert, Severity } from '../alert/codec';
import { organizationName } from '../alert/codec';

export type TagValue = string | { readonly value: string; readonly color: string };

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
/** P1 is the highest. */
export type Priority = (typeof PRIORITIES)[number];
export type SeverityPriorities = Readonly<Record<Severity, Priority>>;

/** Threat Stack's 1 (most severe), 2, 3 as Squadcast P1, P2, P3 unless SEVERITY_PRIORITIES says otherwise. */
export const DEFAULT_PRIORITIES: SeverityPriorities = { 1: 'P1', 2: 'P2', 3: 'P3' };

/** Squadcast Incident Webhook body (docs/reference/squadcast-incident-webhook.md). */
export interface SquadcastIncident {
  readonly message: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, TagValue>>;
  readonly priority: Priority;
  readonly status: 'trigger';
  readonly event_id: string;
}

/** Squadcast refuses a body over 30 KB with 413; stay well under it. */
export const MAX_INCIDENT_BYTES = 29_000;
export const MAX_MESSAGE_CHARS = 250;
const MAX_TAG_CHARS = 200;
const MAX_FIELD_CHARS = 2_000;

const SEVERITY: Record<Severity, { readonly word: string; readonly tag: string; readonly color: string }> = {
  1: { word: 'High', tag: 'high', color: '#d32f2f' },
  2: { word: 'Medium', tag: 'medium', color: '#f57c00' },
  3: { word: 'Low', tag: 'low', color: '#1976d2' },
};

const KNOWN_FIELDS = new Set([
  'id',
  'title',
  'created_at',
  'severity',
  'organization_id',
  'organization_name',
  'organization_Name',
  'server_or_region',
  'source',
]);

/** Cuts to at most `maxChars` code points (never splitting a surrogate pair), reading no further than needed. */
export const truncate = (text: string, maxChars: number): string => {
  if (text.length <= maxChars) return text;
  let kept = 0;
  let end = 0;
  for (const char of text) {
    if (kept === maxChars) return `${text.slice(0, end - lastLength(text, end))}…`;
    kept += 1;
    end += char.length;
  }
  return text;
};

/** Length in code units of the code point that ends at `end`. */
const lastLength = (text: string, end: number): number => {
  const code = text.charCodeAt(end - 1);
  return code >= 0xdc00 && code <= 0xdfff && end >= 2 ? 2 : 1;
};

/** Markdown is rendered by Squadcast: alert text must show as text, not as links or markup. */
const escapeMarkdown = (text: string): string => text.replace(/[\\`*_{}[\]()<>#+!|~-]/g, '\\$&').replace(/\r\n?|\n/g, ' ');

const field = (label: string, value: string, maxChars = MAX_FIELD_CHARS): string =>
  `| ${label} | ${escapeMarkdown(truncate(value, maxChars))} |`;

const extraFields = (alert: Alert): string[] =>
  Object.entries(alert)
    .filter(([key]) => !KNOWN_FIELDS.has(key))
    .map(([key, value]) =>
      field(escapeMarkdown(truncate(key, 100)), typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null'), 500),
    );

const describe = (alert: Alert, withExtras: boolean): string => {
  const severity = SEVERITY[alert.severity];
  const org = organizationName(alert);
  return [
    `**${escapeMarkdown(truncate(alert.title, MAX_FIELD_CHARS))}**`,
    '',
    '| Field | Value |',
    '| --- | --- |',
    field('Severity', `${severity.word} (${alert.severity})`),
    field('Source', alert.source),
    field(alert.source === 'CloudTrail' ? 'Region' : 'Host or region', alert.server_or_region),
    field('Organization', org === undefined ? alert.organization_id : `${org} (${alert.organization_id})`),
    field('Created at', new Date(alert.created_at).toISOString()),
    field('Threat Stack alert id', alert.id),
    ...(withExtras ? extraFields(alert) : []),
    '',
    'Sent by the Threat Stack → Squadcast relay. Threat Stack sends no resolve notifications: resolve this incident by hand.',
  ].join('\n');
};

const tag = (value: string): string => truncate(value, MAX_TAG_CHARS);

/**
 * Maps one Threat Stack alert to one Squadcast incident. `event_id` is the alert id, so the
 * incident names the alert Threat Stack's UI shows. The serialized body always stays under
 * MAX_INCIDENT_BYTES, whatever the alert's size: extra fields go first, then the text shrinks.
 */
export const toIncident = (alert: Alert, priorities: SeverityPriorities = DEFAULT_PRIORITIES): SquadcastIncident => {
  const severity = SEVERITY[alert.severity];
  const org = organizationName(alert);
  const base = {
    message: truncate(alert.title.trim() === '' ? `Threat Stack ${alert.source} alert` : alert.title, MAX_MESSAGE_CHARS),
    tags: {
      severity: { value: severity.tag, color: severity.color },
      source: tag(alert.source),
      server_or_region: tag(alert.server_or_region),
      organization_id: tag(alert.organization_id),
      ...(org === undefined ? {} : { organization_name: tag(org) }),
    },
    priority: priorities[alert.severity],
    status: 'trigger' as const,
    event_id: alert.id,
  };
  const withExtras = { ...base, description: describe(alert, true) };
  if (incidentBytes(withExtras) <= MAX_INCIDENT_BYTES) return withExtras;
  const plain = { ...base, description: describe(alert, false) };
  if (incidentBytes(plain) <= MAX_INCIDENT_BYTES) return plain;
  // A pathological id, or text that grows in JSON (escapes, control and multi-byte characters):
  // cut the description by bytes to what is left once the rest is serialized.
  const shortened = { ...base, event_id: truncate(alert.id, 1_000), description: '' };
  return { ...shortened, description: truncateToJsonBytes(plain.description, MAX_INCIDENT_BYTES - incidentBytes(shortened)) };
};

/** The longest prefix of `text` (whole characters, then "…") whose JSON string content takes at most `maxBytes` bytes. */
const truncateToJsonBytes = (text: string, maxBytes: number): string => {
  const jsonBytes = (s: string): number => Buffer.byteLength(JSON.stringify(s), 'utf8') - 2;
  if (jsonBytes(text) <= maxBytes) return text;
  const chars = Array.from(text);
  let fits = 0;
  let tooLong = chars.length;
  while (tooLong - fits > 1) {
    const mid = Math.floor((fits + tooLong) / 2);
    if (jsonBytes(`${chars.slice(0, mid).join('')}…`) <= maxBytes) fits = mid;
    else tooLong = mid;
  }
  return `${chars.slice(0, fits).join('')}…`;
};

export const incidentBytes = (incident: SquadcastIncident): number => Buffer.byteLength(JSON.stringify(incident), 'utf8');
