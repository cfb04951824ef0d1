import type { Severity } from '../alert/codec';
import type { ReadAlert } from '../alert/read-alert';
import { escapedId, plainText, truncate } from '../common/text';
import type { EarlierDelivery } from './describe';
import { describe, fallbackTitle } from './describe';
import type { Priority, SeverityPriorities } from './priorities';
import { DEFAULT_PRIORITIES, highestPriority } from './priorities';

export type TagValue = string | { readonly value: string; readonly color: string };

/**
 * Squadcast Incident Webhook body (docs/reference/squadcast-incident-webhook.md). What each field may hold:
 * - `message`: the alert title (or "Threat Stack <source> alert" when it has none) as plain text: line
 *   breaks and tabs become spaces, control and bidirectional-override characters are removed, at most
 *   MAX_MESSAGE_CHARS characters. Never Markdown, never escaped.
 * - `description`: Markdown, see ./describe.ts; at most MAX_DESCRIPTION_BYTES.
 * - `tags`: plain text like `message`, at most 200 characters each; `severity` is `high`, `medium`,
 *   `low` or `unknown`, with a colour.
 * - `event_id`: the Threat Stack alert id as sent, or the id the relay derived (`relay-derived-…`); for a
 *   later version of an alert delivered before under the same id, `<id>~<version>` (12 hex digits of
 *   its fingerprint), so that Squadcast's key-based deduplication opens an incident for it, while an
 *   identical resend (the same version) still folds.
 * - the tag `alert_id`: the id alone, on every version, to find (and resolve) them all.
 */
export interface SquadcastIncident {
  readonly message: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, TagValue>>;
  readonly priority: Priority;
  readonly status: 'trigger';
  readonly event_id: string;
}

/** Squadcast refuses a body over 30 KB with 413: the body stays well under it. */
export const MAX_INCIDENT_BYTES = 29_000;
export const MAX_MESSAGE_CHARS = 250;
const MAX_TAG_CHARS = 200;

const SEVERITY_TAGS: Record<Severity | 'unknown', { readonly value: string; readonly color: string }> = {
  1: { value: 'high', color: '#d32f2f' },
  2: { value: 'medium', color: '#f57c00' },
  3: { value: 'low', color: '#1976d2' },
  unknown: { value: 'unknown', color: '#7b1fa2' },
};

const tag = (value: string): string => truncate(plainText(value), MAX_TAG_CHARS);

const optionalTag = (name: string, value: string | undefined): Record<string, string> =>
  value === undefined ? {} : { [name]: tag(value) };

/**
 * Maps one alert, as read by `readAlert`, to one Squadcast incident. `event_id` is the alert id, so
 * the incident names the alert Threat Stack's UI shows. An alert whose severity could not be read
 * gets `unknownPriority` (by default the highest priority the mapping uses) and the tag `severity: unknown`.
 * The body stays under MAX_INCIDENT_BYTES whatever the alert holds: the description is bounded,
 * and so are the message, the tags and the id. `earlier` is an alert delivered before under the same
 * id: the description says so, and names the fields that changed.
 */
export const toIncident = (
  alert: ReadAlert,
  priorities: SeverityPriorities = DEFAULT_PRIORITIES,
  unknownPriority: Priority = highestPriority(priorities),
  earlier?: EarlierDelivery,
): SquadcastIncident => {
  const title = plainText(alert.title ?? '');
  return {
    message: truncate(title.trim() === '' ? fallbackTitle(alert) : title, MAX_MESSAGE_CHARS),
    description: describe(alert, earlier),
    tags: {
      severity: SEVERITY_TAGS[alert.severity ?? 'unknown'],
      ...optionalTag('source', alert.source),
      ...optionalTag('server_or_region', alert.serverOrRegion),
      ...optionalTag('organization_id', alert.organizationId),
      ...optionalTag('organization_name', alert.organizationName),
      alert_id: truncate(escapedId(alert.id), MAX_TAG_CHARS),
    },
    priority: alert.severity === undefined ? unknownPriority : priorities[alert.severity],
    status: 'trigger',
    event_id: earlier === undefined ? alert.id : `${alert.id}~${earlier.version}`,
  };
};

export const incidentBytes = (incident: SquadcastIncident): number => Buffer.byteLength(JSON.stringify(incident), 'utf8');
