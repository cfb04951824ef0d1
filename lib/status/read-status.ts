import type { Logger } from '../common/logger';
import type { AlertRecord, LedgerReader } from '../ledger/ledger';
import type { QueueDepthReader } from '../queue/message-queue';
import type { AlertStatus, RelayStatus, StatusRequest } from './relay-status';

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
  /** deliver's ceiling (SQUADCAST_MAX_PER_MINUTE): the most the queue drains a minute. */
  readonly squadcastMaxPerMinute?: number;
}

const startOfUtcDay = (at: Date): Date => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));

/** The CHART_DAYS UTC dates ending today, oldest first. */
export const chartDays = (now: Date): string[] => {
  const today = startOfUtcDay(now).getTime();
  return Array.from({ length: CHART_DAYS }, (_, i) => new Date(today - (CHART_DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10));
};

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

const describeAlert = (alert: AlertStatus): string => {
  const id = JSON.stringify(alert.id);
  switch (alert.state) {
    case 'delivered':
      return `alert ${id} delivered at ${alert.deliveredAt}`;
    case 'not-recorded':
      return `alert ${id} not tried yet (queued, or unknown)`;
    case 'in-flight':
      return `alert ${id} being sent`;
    case 'dead-lettered':
      return `alert ${id} dead-lettered: ${alert.lastFailure ?? 'no reason recorded'}`;
    case 'failed':
      return `alert ${id} failing${alert.failingSince === undefined ? '' : ` since ${alert.failingSince}`}: ${alert.lastFailure ?? 'no reason recorded'}; retried`;
  }
};

export const summarizeStatus = (status: Omit<RelayStatus, 'summary'>): string =>
  [
    ...(status.alert === undefined ? [] : [describeAlert(status.alert)]),
    status.active ? 'Receiving alerts (active in Squadcast)' : 'Inactive (no incident in the last 30 days)',
    `${plural(status.incidentsLast30Days, 'incident', 'incidents')} in the last 30 days`,
    `last incident ${status.lastIncidentAt ?? 'never'}`,
    `${plural(status.queue.pending, 'alert', 'alerts')} waiting for delivery`,
    `${plural(status.queue.deadLetter, 'message', 'messages')} in the dead-letter queue` +
      (status.queue.deadLetter > 0 ? ' (see docs/operator-guide.md, "Dead-letter queue")' : ''),
  ].join('; ');

/** The ledger's record of one alert, as the status answers it. */
const alertStatus = (id: string, record: AlertRecord | undefined): AlertStatus => ({
  id,
  state: record?.state ?? 'not-recorded',
  ...(record?.deliveredAt === undefined ? {} : { deliveredAt: record.deliveredAt.toISOString() }),
  ...(record?.failingSince === undefined ? {} : { failingSince: record.failingSince.toISOString() }),
  ...(record?.lastFailure === undefined ? {} : { lastFailure: record.lastFailure }),
});

/**
 * The 30-day "active alert source" status, computed from the recorded delivery times:
 * DynamoDB deletes expired items days late (and emulators never do), so the TTL is not the window.
 * Active means recent traffic, not health (docs/reference/squadcast-incident-webhook.md).
 */
export const readStatus = async (deps: StatusDeps, request: StatusRequest = {}): Promise<RelayStatus> => {
  const now = deps.now();
  const since = new Date(now.getTime() - ACTIVE_WINDOW_MS);
  const days = chartDays(now);
  const { alertId } = request;
  // The chart's first day starts after `since`, so the window's per-day counts cover it.
  const [summary, queue, record] = await Promise.all([
    deps.ledger.summarize(since),
    deps.queues.depths(),
    alertId === undefined ? undefined : deps.ledger.lookup(alertId),
  ]);
  const status = {
    source: 'threatstack' as const,
    active: summary.lastDeliveredAt !== null && summary.lastDeliveredAt.getTime() >= since.getTime(),
    lastIncidentAt: summary.lastDeliveredAt?.toISOString() ?? null,
    incidentsLast30Days: summary.deliveredSince,
    incidentsPerDay: days.map((date) => ({ date, count: summary.perDay[date] ?? 0 })),
    checkedAt: now.toISOString(),
    queue,
    ...(deps.squadcastMaxPerMinute === undefined ? {} : { squadcastMaxPerMinute: deps.squadcastMaxPerMinute }),
    ...(alertId === undefined ? {} : { alert: alertStatus(alertId, record) }),
  };
  deps.log?.info('status read', {
    active: status.active,
    incidentsLast30Days: status.incidentsLast30Days,
    pending: queue.pending,
    deadLetter: queue.deadLetter,
    ...(status.alert === undefined ? {} : { alertId: status.alert.id, alertState: status.alert.state }),
  });
  return { ...status, summary: summarizeStatus(status) };
};
