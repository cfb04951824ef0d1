import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { plainText, truncate } from '../lib/common/text';

/**
 * Stands in for Squadcast when no SQUADCAST_WEBHOOK_URL is set: takes incidents at
 * `POST /local/squadcast/<key>` as Squadcast takes them at its webhook URL (the key is part of the
 * URL, and a wrong one is refused with 404, as Squadcast does), prints one line for each, and lists
 * them at `GET /local/incidents`. With a data directory they are kept in `incidents.jsonl` there,
 * across restarts; an ephemeral relay keeps them in memory only.
 */
export interface LocalInbox {
  /** The key the relay's SQUADCAST_WEBHOOK_URL carries; any other is refused. */
  readonly key: string;
  receive(key: string, body: string): { status: number; body: unknown };
  list(): readonly unknown[];
}

/** A new key for each start: nothing but the relay that was given the URL can post incidents. */
export const localInboxKey = (): string => randomBytes(12).toString('hex');

export const createLocalInbox = (
  print: (line: string) => void,
  options: { readonly file?: string; readonly key?: string } = {},
): LocalInbox => {
  const key = options.key ?? localInboxKey();
  const kept = options.file !== undefined && existsSync(options.file) ? readFileSync(options.file, 'utf8') : '';
  // A line cut short by a crash is ended, so that the next incident starts a line of its own.
  if (options.file !== undefined && kept !== '' && !kept.endsWith('\n')) appendFileSync(options.file, '\n', { mode: 0o600 });
  const incidents: unknown[] =
    kept !== ''
      ? kept
          .split('\n')
          .filter((line) => line.trim() !== '')
          .flatMap((line) => {
            try {
              return [JSON.parse(line) as unknown];
            } catch {
              // A line cut short by a crash: the incidents before it are kept.
              return [];
            }
          })
      : [];
  return {
    key,
    receive: (given, body) => {
      if (given !== key) return { status: 404, body: { error: 'not found: the API key in the URL is not this inbox’s' } };
      let incident: { message?: unknown; priority?: unknown; event_id?: unknown };
      try {
        incident = JSON.parse(body) as typeof incident;
      } catch {
        return { status: 400, body: { error: 'body is not valid JSON' } };
      }
      incidents.push(incident);
      if (options.file !== undefined) appendFileSync(options.file, `${JSON.stringify(incident)}\n`, { mode: 0o600 });
      // Alert text reaches a terminal: control characters (colours, cursor moves, a title change) are removed.
      const text = (value: unknown, max: number): string => truncate(plainText(String(value)), max);
      print(`[local squadcast] incident ${text(incident.priority, 5)} ${text(incident.event_id, 80)}: ${text(incident.message, 120)}`);
      return { status: 202, body: { status: 'accepted' } };
    },
    list: () => incidents,
  };
};
