import type { Severity } from '../alert/codec';
import type { ReceivedAlert } from '../alert/decode-webhook';
import { countElements, decodeWebhookBody } from '../alert/decode-webhook';
import { fingerprintOf } from '../alert/fingerprint';
import { describeIssues, isDegraded } from '../alert/read-alert';
import type { Checked } from '../common/checked';
import { invalid, valid } from '../common/checked';
import { parseJson } from '../common/json';
import type { LogFields, Logger } from '../common/logger';
import type { CountMetric, RelayMetrics } from '../common/metrics';
import type { Secret } from '../common/secret';
import type { MessageQueue } from '../queue/message-queue';
import { queuedAlertMessage, rejectedAlertMessage } from '../queue/messages';
import type { SourceAllowlist } from './source-allowlist';
import { matchToken } from './webhook-token';

/** What the webhook receives, independent of API Gateway's event shape. */
export interface WebhookRequest {
  /** The TCP peer as API Gateway saw it (never a header). */
  readonly sourceIp: string | undefined;
  readonly token: string | undefined;
  /** The Content-Encoding header as sent (absent: none). */
  readonly contentEncoding?: string;
  readonly body: Buffer;
  /**
   * A deploy's smoke test, invoking the function directly with a wrong token on purpose (npm run smoke):
   * its token refusal is logged as expected and not counted, so that no deploy pages anyone. Only a
   * direct invocation can say so (lib/ingest/api-gateway.ts).
   */
  readonly smokeTest?: boolean;
}

export type IngestResult =
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'unsupported-encoding' }
  | { readonly kind: 'payload-too-large'; readonly limitBytes: number }
  | { readonly kind: 'too-many-alerts'; readonly limitAlerts: number; readonly alerts: number }
  | { readonly kind: 'bad-request'; readonly error: string; readonly problems: readonly string[] }
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

export interface IngestDeps {
  readonly allowlist: SourceAllowlist;
  readonly token: Secret;
  /** During a rotation, the token being rotated out: accepted too, and logged as `token: previous`. */
  readonly previousToken?: Secret;
  readonly alerts: MessageQueue;
  readonly deadLetters: MessageQueue;
  readonly log: Logger;
  readonly now: () => Date;
  /** Severities that page (DELIVER_SEVERITIES); absent means all. */
  readonly deliverSeverities?: ReadonlySet<Severity>;
  readonly metrics?: RelayMetrics;
}

/**
 * Lambda carries at most 6 MB of event, in which the body is a JSON string (its quotes escaped):
 * 4 MiB leaves room for that. Realistic alerts (about 250 bytes) reach MAX_ALERTS_PER_REQUEST first,
 * at about 1.3 MiB; the byte limit bounds what a request can make ingest parse. A larger body is
 * refused with 413, by this check or by Lambda.
 */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/**
 * The most alerts one request may hold: what ingest finishes within half its timeout (10 s) at its
 * memory (512 MB, about 0.29 of a vCPU), whatever the alerts hold. The work is per alert (read,
 * fingerprint, message, a tenth of a SendMessageBatch), so tiny alerts (`{"id":"1"}`, 262 137 of
 * them fit in 4 MiB) are the worst case, not the body size. `npm run bench` (figure 6) prints it:
 * measured on 2026-12-04, 5 000 tiny alerts took 0.8 to 1.0 s of CPU on one x86 core, about 3.5 s
 * at 512 MB's share of a vCPU. Beyond it, 413, counted and alarmed as a body that is too large.
 */
export const MAX_ALERTS_PER_REQUEST = 5_000;
/** Alert ids are the correlation key in logs; a line names at most this many. */
const MAX_LOGGED_IDS = 100;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a call was refused as a whole. Each reason has its own metric, and its own alarm in serverless.yml. */
export type RefusalReason = 'source-ip' | 'token' | 'content-encoding' | 'too-large' | 'not-json' | 'no-alerts';

const REFUSAL_METRIC: Readonly<Record<RefusalReason, CountMetric>> = {
  'source-ip': 'refusedSource',
  token: 'refusedToken',
  'content-encoding': 'refusedEncoding',
  'too-large': 'refusedTooLarge',
  'not-json': 'refusedNotJson',
  'no-alerts': 'refusedNoAlerts',
};

/** Counts and logs a refusal. Threat Stack documents no retries: a refused call's alerts are gone, so each one is counted. */
const refuse = <R extends IngestResult>(deps: IngestDeps, reason: RefusalReason, result: R, fields: LogFields): R => {
  deps.metrics?.count(REFUSAL_METRIC[reason]);
  deps.log.warn('webhook refused', { reason, ...fields });
  return result;
};

/** Registered content codings, logged by name; anything else is logged as `other` (the header is the caller's text). */
const KNOWN_CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'compress', 'x-compress', 'zstd', 'aes128gcm']);

/**
 * The codings applied to the body (RFC 9110 §8.4); `identity` means none. Ingest decodes none, so
 * any other is refused before the body is read, with 415 (§15.5.16), rather than "not UTF-8".
 * https://www.rfc-editor.org/rfc/rfc9110#name-content-encoding
 */
const contentCodings = (header: string | undefined): string[] =>
  (header ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');

/** Neither the body nor the parser's message (which quotes the input) goes into the problem. */
const readJsonBody = (body: Buffer): Checked<unknown> => {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return invalid('body is not valid UTF-8');
  }
  try {
    return valid(parseJson(text));
  } catch {
    return invalid('body is not valid JSON');
  }
};

/**
 * Keeps the first of each alert sent twice in one batch: the same id AND the same fingerprint (the
 * fields its incident shows). Two alerts that share an id but differ (a raised severity) both page.
 */
const distinctAlerts = (alerts: readonly ReceivedAlert[]): ReceivedAlert[] => {
  // Only an id that repeats needs a fingerprint (nine digests an alert: about 100 ms for 5000 alerts
  // on one x86 core, which a batch of distinct ids, the usual one, need not spend).
  const perId = new Map<string, number>();
  for (const { read } of alerts) perId.set(read.id, (perId.get(read.id) ?? 0) + 1);
  const seen = new Set<string>();
  return alerts.filter(({ read, fields }) => {
    if (perId.get(read.id) === 1) return true;
    const key = `${read.id}\u0000${fingerprintOf(fields).value}`;
    return !seen.has(key) && Boolean(seen.add(key));
  });
};

/** Splits in one pass: the items `test` keeps, then the others, each in order. */
const partition = <T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] => {
  const kept: T[] = [];
  const others: T[] = [];
  for (const item of items) (test(item) ? kept : others).push(item);
  return [kept, others];
};

/**
 * Authenticates, decodes and queues one webhook call. Every element that is a JSON object is queued
 * on its own, however little of it could be read (a degraded alert pages with what it holds); an
 * element that is not an object goes to the dead-letter queue with its problem. If anything could not
 * be stored, the answer is `unavailable` so that Threat Stack sends the batch again (alerts already
 * queued are absorbed downstream by the idempotent delivery).
 */
export const ingestWebhook = async (request: WebhookRequest, deps: IngestDeps): Promise<IngestResult> => {
  const sourceIp = request.sourceIp ?? null;
  // Both 403s are the same result: a caller cannot tell a wrong address from a wrong token.
  if (!deps.allowlist.allows(request.sourceIp)) return refuse(deps, 'source-ip', { kind: 'forbidden' }, { sourceIp });
  const token = matchToken(request.token, deps.token, deps.previousToken);
  if (token === undefined && request.smokeTest === true) {
    deps.log.info('smoke test: a wrong token refused, as expected (not counted)', { sourceIp });
    return { kind: 'forbidden' };
  }
  if (token === undefined) return refuse(deps, 'token', { kind: 'forbidden' }, { sourceIp });
  const codings = contentCodings(request.contentEncoding);
  if (codings.length > 0) {
    const named = codings.map((coding) => (KNOWN_CODINGS.has(coding) ? coding : 'other'));
    return refuse(deps, 'content-encoding', { kind: 'unsupported-encoding' }, { sourceIp, contentEncoding: named });
  }
  if (request.body.length > MAX_BODY_BYTES) {
    const result = { kind: 'payload-too-large', limitBytes: MAX_BODY_BYTES } as const;
    return refuse(deps, 'too-large', result, { sourceIp, bytes: request.body.length });
  }

  const parsed = readJsonBody(request.body);
  if (parsed.kind === 'invalid') {
    const error = parsed.problems.join('; ');
    return refuse(deps, 'not-json', { kind: 'bad-request', error, problems: [] }, { sourceIp, error });
  }
  const alerts = countElements(parsed.value);
  if (alerts > MAX_ALERTS_PER_REQUEST) {
    const result = { kind: 'too-many-alerts', limitAlerts: MAX_ALERTS_PER_REQUEST, alerts } as const;
    return refuse(deps, 'too-large', result, { sourceIp, alerts, limitAlerts: MAX_ALERTS_PER_REQUEST });
  }
  const now = deps.now();
  const checked = decodeWebhookBody(parsed.value, now);
  if (checked.kind === 'invalid') {
    const result = { kind: 'bad-request', error: 'body is not a Threat Stack alert batch or alert', problems: checked.problems } as const;
    return refuse(deps, 'no-alerts', result, { sourceIp, problems: checked.problems.slice(0, 50) });
  }
  const decoded = checked.value;

  const unique = distinctAlerts(decoded.alerts);
  // Filtered alerts are answered 2xx (Threat Stack must not resend them), but never queued: the
  // operator chose that a severity never pages. An alert whose severity cannot be read is never
  // filtered: a payload change must not silence what may be the most severe alert.
  const [wanted, filtered] = partition(
    unique,
    ({ read }) => read.severity === undefined || (deps.deliverSeverities?.has(read.severity) ?? true),
  );
  // The builder shortens an alert too large for one message: nothing is refused for its size.
  const messages = wanted.map((alert) => ({
    alert,
    message: queuedAlertMessage({ id: alert.read.id, alert: alert.fields, notes: alert.notes }, now),
  }));
  const degraded = messages.filter(({ alert, message }) => isDegraded(alert.read) || message.shortenedFields > 0);
  const rejected = decoded.rejected;

  const [queued, deadLettered] = await Promise.all([
    deps.alerts.sendAll(messages.map(({ message }) => message)),
    deps.deadLetters.sendAll(rejected.map((entry) => rejectedAlertMessage(entry, now))),
  ]);
  const failed = queued.failedKeys.length + deadLettered.failedKeys.length;
  const fields = {
    // Which token the call presented: once only `current` shows, the previous token can be deleted.
    token,
    received: decoded.alerts.length + decoded.rejected.length,
    enqueued: messages.length - queued.failedKeys.length,
    degraded: degraded.length,
    rejected: rejected.length,
    duplicates: decoded.alerts.length - unique.length,
    failed,
  };
  deps.metrics?.count('received', fields.received);
  deps.metrics?.count('enqueued', fields.enqueued);
  deps.metrics?.count('rejected', fields.rejected);
  deps.metrics?.count('degraded', fields.degraded);
  deps.metrics?.count('filtered', filtered.length);
  if (filtered.length > 0) {
    deps.log.info('alerts filtered out by severity; not delivered', {
      filtered: filtered.length,
      severities: [...new Set(filtered.map(({ read }) => read.severity))],
      alertIds: filtered.slice(0, MAX_LOGGED_IDS).map(({ read }) => read.id),
    });
  }
  if (failed > 0) {
    deps.log.error('could not queue every alert', { ...fields, failedAlertIds: queued.failedKeys.slice(0, MAX_LOGGED_IDS) });
    return { kind: 'unavailable', queued: fields.enqueued, failed };
  }
  if (rejected.length > 0)
    deps.log.warn('invalid alerts sent to the dead-letter queue', {
      ...fields,
      problems: rejected.flatMap((r) => r.problems).slice(0, 50),
    });
  if (degraded.length > 0)
    deps.log.warn('alerts queued with fields the relay could not read; they page as degraded incidents', {
      degraded: degraded.length,
      alertIds: degraded.slice(0, MAX_LOGGED_IDS).map(({ alert }) => alert.read.id),
      problems: degraded.flatMap(({ alert }) => describeIssues(alert.read, alert.path)).slice(0, 50),
    });
  deps.log.info('webhook accepted', { ...fields, alertIds: wanted.slice(0, MAX_LOGGED_IDS).map(({ read }) => read.id) });
  return {
    kind: 'accepted',
    accepted: fields.enqueued,
    ...(degraded.length > 0 ? { degraded: degraded.length } : {}),
    rejected: rejected.length,
    duplicates: fields.duplicates,
    ...(filtered.length > 0 ? { filtered: filtered.length } : {}),
  };
};
