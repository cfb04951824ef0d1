import type { Logger } from '../common/logger';
import type { LedgerReader } from '../ledger/ledger';
import type { QueueDepthReader } from '../queue/message-queue';
import type { RelayStatus } from './relay-status';

/** Squadcast shows a source as active when it recorded an incident in the last 30 days. */
export const ACTIVE_WINDOW_MS = 30 * 86_400_000;
/** Bars in the status chart: today and the 29 UTC days before it. */
export const CHART_DAYS = 30;
const DAY_MS = 86_400_000;

export interface StatusDeps {
  readonly ledger: LedgerReader;
  readonly queues: QueueDepthReader;
  readonly now: () => Date;
  /** One line per status read: who looked, when, and what they saw (the log is the audit trail). */
  readonly log?: Logger;
}

const startOfUtcDay = (at: Date): Date => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));

/** The CHART_DAYS UTC dates ending today, oldest first. */
export const chartDays = (now: Date): string[] => {
  const today = startOfUtcDay(now).getTime();
  return Array.from({ length: CHART_DAYS }, (_, i) => new Date(today - (CHART_DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10));
};

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

export const summarizeStatus = (status: Omit<RelayStatus, 'summary'>): string =>
  [
    status.active ? 'Receiving alerts (active in Squadcast)' : 'Inactive (no incident in the last 30 days)',
    `${plural(status.incidentsLast30Days, 'incident', 'incidents')} in the last 30 days`,
    `last incident ${status.lastIncidentAt ?? 'never'}`,
    `${plural(status.queue.pending, 'alert', 'alerts')} waiting for delivery`,
    `${plural(status.queue.deadLetter, 'message', 'messages')} in the dead-letter queue` +
      (status.queue.deadLetter > 0 ? ' (see docs/operator-guide.md, "Dead-letter queue")' : ''),
  ].join('; ');

/**
 * The 30-day "active alert source" status, computed from the recorded delivery times:
 * DynamoDB deletes expired items days late (and emulators never do), so the TTL is not the window.
 * Active means recent traffic, not health (docs/reference/squadcast-incident-webhook.md).
 */
export const readStatus = async (deps: StatusDeps): Promise<RelayStatus> => {
  const now = deps.now();
  const since = new Date(now.getTime() - ACTIVE_WINDOW_MS);
  const days = chartDays(now);
  // The chart's first day starts after `since`, so the window's per-day counts cover it.
  const [summary, queue] = await Promise.all([deps.ledger.summarize(since), deps.queues.depths()]);
  const status = {
    source: 'threatstack' as const,
    active: summary.lastDeliveredAt !== null && summary.lastDeliveredAt.getTime() >= since.getTime(),
    lastIncidentAt: summary.lastDeliveredAt?.toISOString() ?? null,
    incidentsLast30Days: summary.deliveredSince,
    incidentsPerDay: days.map((date) => ({ date, count: summary.perDay[date] ?? 0 })),
    checkedAt: now.toISOString(),
    queue,
  };
  deps.log?.info('status read', {
    active: status.active,
    incidentsLast30Days: status.incidentsLast30Days,
    pending: queue.pending,
    deadLetter: queue.deadLetter,
  });
  return { ...status, summary: summarizeStatus(status) };
};
