import type { DayCount, RelayStatus } from '../lib/status/relay-status';
import { describeAge } from '../local/describe-time';

const LEVELS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** One character a day: `·` for none, then eighths of the busiest day. */
export const sparkline = (days: readonly DayCount[]): string => {
  const max = Math.max(0, ...days.map((d) => d.count));
  return days
    .map((d) => (d.count === 0 ? '·' : LEVELS[Math.min(LEVELS.length - 1, Math.ceil((d.count / max) * LEVELS.length) - 1)]))
    .join('');
};

export interface FormatOptions {
  /** ANSI colours for the dot (a terminal); plain text otherwise. */
  readonly color?: boolean;
  readonly heading?: string;
}

/** The status as a person reads it in a terminal: the same facts as the status page. */
export const formatStatus = (status: RelayStatus, options: FormatOptions = {}): string => {
  const paint = (code: string, text: string): string => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const checkedAt = new Date(status.checkedAt);
  const busiest = status.incidentsPerDay.reduce<DayCount | undefined>((best, d) => (d.count > (best?.count ?? 0) ? d : best), undefined);
  const first = status.incidentsPerDay[0]?.date ?? '';
  const last = status.incidentsPerDay[status.incidentsPerDay.length - 1]?.date ?? '';
  const row = (label: string, value: string): string => `  ${label.padEnd(24)}${value}`;
  return [
    options.heading ?? 'Threat Stack → Squadcast relay',
    `  ${status.active ? paint('32', '●') : paint('90', '●')} ${status.active ? 'Receiving alerts' : 'Inactive'}${
      status.active ? '' : ' (no incident in the last 30 days: send a test alert to turn it active)'
    }`,
    row(
      'Last incident',
      status.lastIncidentAt === null ? 'never' : `${status.lastIncidentAt} (${describeAge(new Date(status.lastIncidentAt), checkedAt)})`,
    ),
    row('Incidents, 30 days', String(status.incidentsLast30Days)),
    row('Waiting for delivery', String(status.queue.pending)),
    row(
      'Dead-letter queue',
      status.queue.deadLetter === 0 ? '0' : paint('31', `${status.queue.deadLetter}: inspect, then npm run redrive`),
    ),
    row('Per day (UTC)', `${first} ${sparkline(status.incidentsPerDay)} ${last}`),
    row('', busiest === undefined ? 'no incidents in these days' : `busiest: ${busiest.count} on ${busiest.date}`),
    row('Checked at', status.checkedAt),
  ].join('\n');
};
