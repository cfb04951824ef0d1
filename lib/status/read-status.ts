import type { ActivityReader } from '../activity/activity-store';
import type { QueueDepthReader, QueueDepths } from '../queue/message-queue';

/** Squadcast shows a source as active when it recorded an incident in the last 30 days. */
export const ACTIVE_WINDOW_MS = 30 * 86_400_000;

export interface RelayStatus {
  readonly source: 'threatstack';
  readonly active: boolean;
  readonly lastIncidentAt: string | null;
  readonly incidentsLast30Days: number;
  readonly checkedAt: string;
  readonly queue: QueueDepths;
}

export interface StatusDeps {
  readonly activity: ActivityReader;
  readonly queues: QueueDepthReader;
  readonly now: () => Date;
}

/**
 * The 30-day "active alert source" status, computed from the recorded delivery times:
 * DynamoDB deletes expired items days late (and emulators never do), so the TTL is not the window.
 * Active means recent traffic, not health (../shared/reference/squadcast-incident-webhook.md).
 */
export const readStatus = async (deps: StatusDeps): Promise<RelayStatus> => {
  const now = deps.now();
  const since = new Date(now.getTime() - ACTIVE_WINDOW_MS);
  const [summary, queue] = await Promise.all([deps.activity.summarize(since), deps.queues.depths()]);
  return {
    source: 'threatstack',
    active: summary.lastDeliveredAt !== null && summary.lastDeliveredAt.getTime() >= since.getTime(),
    lastIncidentAt: summary.lastDeliveredAt?.toISOString() ?? null,
    incidentsLast30Days: summary.deliveredSince,
    checkedAt: now.toISOString(),
    queue,
  };
};
