import type { SquadcastIncident } from '../../lib/incident/to-incident';

/**
 * Squadcast's Key-Based Deduplication with the key the operator guide recommends (`event_id` alone),
 * as docs/reference/squadcast-incident-webhook.md states it: a new event folds into the open incident
 * (Triggered or Acknowledged) with the same key, for at most 48 hours; any other event opens an
 * incident. A model of what the reference says, not of Squadcast's code.
 */
export const DEDUP_WINDOW_MS = 48 * 60 * 60 * 1000;

export interface ModelIncident {
  readonly key: string;
  readonly openedAt: number;
  status: 'triggered' | 'acknowledged' | 'resolved';
  readonly events: SquadcastIncident[];
}

export class KeyBasedDeduplication {
  readonly incidents: ModelIncident[] = [];

  /** One event in; whether it opened an incident or folded into one. */
  receive(event: SquadcastIncident, at: number): 'opened' | 'folded' {
    const open = this.incidents.find(
      (incident) => incident.key === event.event_id && incident.status !== 'resolved' && at - incident.openedAt <= DEDUP_WINDOW_MS,
    );
    if (open !== undefined) {
      open.events.push(event);
      return 'folded';
    }
    this.incidents.push({ key: event.event_id, openedAt: at, status: 'triggered', events: [event] });
    return 'opened';
  }

  /** The incidents an operator finds by a tag (the relay tags every version with `alert_id`). */
  withTag(name: string, value: string): ModelIncident[] {
    return this.incidents.filter((incident) => incident.events[0]?.tags[name] === value);
  }
}
