import type { Severity } from '../alert/codec';
import type { DecodedWebhook, ReceivedAlert } from '../alert/decode-webhook';
import { distinctAlerts } from '../alert/distinct-alerts';
import { describeIssues, isDegraded } from '../alert/read-alert';
import type { MessageQueue } from '../queue/message-queue';
import { queuedAlertMessage, rejectedAlertMessage } from '../queue/messages';
import type { Refusal, ScreenDeps, WebhookRequest } from './request-screen';
import { screenRequest } from './request-screen';
import type { TokenMatch } from './webhook-token';

export type IngestResult =
  | Refusal
  | { readonly kind: 'unavailable'; readonly queued: number; readonly failed: number }
  | {
      readonly kind: 'accepted';
      readonly accepted: number;
      /** Present when some accepted alerts could be read only in part: they page as degraded incidents. */
      readonly degraded?: number;
      readonly rejected: number;
      readonly duplicates: number;
      /** Present when the severity filter dropped alerts: the answer stays as it was for relays that filter nothing. */
      readonly filtered?: number;
    };

export interface IngestDeps extends ScreenDeps {
  readonly alerts: MessageQueue;
  readonly deadLetters: MessageQueue;
  /** Severities that page (DELIVER_SEVERITIES); absent means all. */
  readonly deliverSeverities?: ReadonlySet<Severity>;
}

/** Alert ids are the correlation key in logs; a line names at most this many. */
const MAX_LOGGED_IDS = 100;

/** Splits in one pass: the items `test` keeps, then the others, each in order. */
const partition = <T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] => {
  const kept: T[] = [];
  const others: T[] = [];
  for (const item of items) (test(item) ? kept : others).push(item);
  return [kept, others];
};

/** What a decoded call becomes: the alerts to queue (each with its message), those filtered out, and the duplicates. */
const sortAlerts = (decoded: DecodedWebhook, now: Date, deliverSeverities: ReadonlySet<Severity> | undefined) => {
  const unique = distinctAlerts(decoded.alerts);
  // Filtered alerts are answered 2xx (Threat Stack must not resend them), but never queued: the
  // operator chose that a severity never pages. An alert whose severity cannot be read is never
  // filtered: a payload change must not silence what may be the most severe alert.
  const [wanted, filtered] = partition(
    unique,
    ({ read }) => read.severity === undefined || (deliverSeverities?.has(read.severity) ?? true),
  );
  // The builder shortens an alert too large for one message: nothing is refused for its size.
  const messages = wanted.map((alert) => ({
    alert,
    message: queuedAlertMessage({ id: alert.read.id, alert: alert.fields, notes: alert.notes }, now),
  }));
  const degraded = messages.filter(({ alert, message }) => isDegraded(alert.read) || message.shortenedFields > 0).map(({ alert }) => alert);
  return { wanted, filtered, messages, degraded, duplicates: decoded.alerts.length - unique.length };
};

/** The log lines of an accepted call, by what it held. */
const logAccepted = (
  deps: IngestDeps,
  fields: Readonly<Record<string, unknown>>,
  sorted: { readonly wanted: readonly ReceivedAlert[]; readonly degraded: readonly ReceivedAlert[] },
  problems: readonly string[],
): void => {
  if (problems.length > 0) deps.log.warn('invalid alerts sent to the dead-letter queue', { ...fields, problems: problems.slice(0, 50) });
  if (sorted.degraded.length > 0)
    deps.log.warn('alerts queued with fields the relay could not read; they page as degraded incidents', {
      degraded: sorted.degraded.length,
      alertIds: sorted.degraded.slice(0, MAX_LOGGED_IDS).map(({ read }) => read.id),
      problems: sorted.degraded.flatMap(({ read, path }) => describeIssues(read, path)).slice(0, 50),
    });
  deps.log.info('webhook accepted', { ...fields, alertIds: sorted.wanted.slice(0, MAX_LOGGED_IDS).map(({ read }) => read.id) });
};

/** Queues what a call that passed the screen holds, and answers it. */
const accept = async (decoded: DecodedWebhook, token: TokenMatch, now: Date, deps: IngestDeps): Promise<IngestResult> => {
  const sorted = sortAlerts(decoded, now, deps.deliverSeverities);
  const { rejected } = decoded;
  const [queued, deadLettered] = await Promise.all([
    deps.alerts.sendAll(sorted.messages.map(({ message }) => message)),
    deps.deadLetters.sendAll(rejected.map((entry) => rejectedAlertMessage(entry, now))),
  ]);
  const failed = queued.failedKeys.length + deadLettered.failedKeys.length;
  const fields = {
    // Which token the call presented: once only `current` shows, the previous token can be deleted.
    token,
    received: decoded.alerts.length + rejected.length,
    enqueued: sorted.messages.length - queued.failedKeys.length,
    degraded: sorted.degraded.length,
    rejected: rejected.length,
    duplicates: sorted.duplicates,
    failed,
  };
  for (const metric of ['received', 'enqueued', 'rejected', 'degraded'] as const) deps.metrics.count(metric, fields[metric]);
  deps.metrics.count('filtered', sorted.filtered.length);
  if (sorted.filtered.length > 0)
    deps.log.info('alerts filtered out by severity; not delivered', {
      filtered: sorted.filtered.length,
      severities: [...new Set(sorted.filtered.map(({ read }) => read.severity))],
      alertIds: sorted.filtered.slice(0, MAX_LOGGED_IDS).map(({ read }) => read.id),
    });
  if (failed > 0) {
    deps.log.error('could not queue every alert', { ...fields, failedAlertIds: queued.failedKeys.slice(0, MAX_LOGGED_IDS) });
    return { kind: 'unavailable', queued: fields.enqueued, failed };
  }
  logAccepted(
    deps,
    fields,
    sorted,
    rejected.flatMap((r) => r.problems),
  );
  return {
    kind: 'accepted',
    accepted: fields.enqueued,
    ...(sorted.degraded.length > 0 ? { degraded: sorted.degraded.length } : {}),
    rejected: rejected.length,
    duplicates: sorted.duplicates,
    ...(sorted.filtered.length > 0 ? { filtered: sorted.filtered.length } : {}),
  };
};

/**
 * Authenticates, decodes and queues one webhook call. Every element that is a JSON object is queued
 * on its own, however little of it could be read (a degraded alert pages with what it holds); an
 * element that is not an object goes to the dead-letter queue with its problem. If anything could not
 * be stored, the answer is `unavailable` so that Threat Stack sends the batch again (alerts already
 * queued are absorbed downstream by the idempotent delivery).
 */
export const ingestWebhook = async (request: WebhookRequest, deps: IngestDeps): Promise<IngestResult> => {
  const screened = screenRequest(request, deps);
  return screened.kind === 'refused' ? screened.result : accept(screened.decoded, screened.token, screened.now, deps);
};
