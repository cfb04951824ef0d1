import { createHash } from 'node:crypto';
import * as t from 'io-ts';
import { decodeWith } from '../common/checked';
import type { Severity } from './codec';
import { IntegerFromNumberOrString, SeverityCodec } from './codec';

/**
 * The one lenient reader of a Threat Stack alert. Threat Stack publishes no schema and has changed
 * its payload before (docs/reference/threatstack-webhook.md): any JSON object that arrives in an
 * authenticated call is read as an alert. Fields that parse are used; fields that do not are listed
 * as unreadable (path and expectation, never the value) and the incident shows them as sent.
 * Ingest uses it for the id, the severity filter and de-duplication; deliver for the incident.
 */

/** The documented fields, in the order problems are listed. */
export const ALERT_FIELDS = [
  'id',
  'title',
  'created_at',
  'severity',
  'organization_id',
  'server_or_region',
  'source',
  'organization_name',
  'organization_Name',
] as const;
const DOCUMENTED = new Set<string>(ALERT_FIELDS);

export const isDocumentedField = (key: string): boolean => DOCUMENTED.has(key);

/**
 * Threat Stack ids are 24 hex digits or a UUID. The id keys the delivery ledger, whose partition key
 * DynamoDB limits to 2048 bytes: a longer id is replaced by a derived one (the original is still shown).
 */
export const MAX_ALERT_ID_CHARS = 256;
/** Threat Stack ids are hex digits and dashes: a derived id can never collide with a real one. */
export const DERIVED_ID_PREFIX = 'relay-derived-';

/** One field's problem, or what the relay did with it. `problem` never quotes the value: issues are logged. */
export interface AlertIssue {
  readonly field: string;
  readonly problem: string;
}

/** Threat Stack started in 2012; every public sample is in epoch milliseconds. */
export const EARLIEST_PLAUSIBLE_MS = Date.UTC(2010, 0, 1);
/** Clocks drift and batches wait: a creation time up to a day after receipt is taken as it is. */
export const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;
/** The largest epoch-milliseconds value a Date holds. */
const MAX_DATE_MS = 8.64e15;

export type CreatedAt =
  | { readonly kind: 'milliseconds'; readonly at: Date }
  /** An epoch in seconds: 1000 times too small to be a plausible time in milliseconds. */
  | { readonly kind: 'seconds'; readonly at: Date; readonly sent: number }
  /** Before 2010 or more than a day in the future: shown as sent, with its reading as milliseconds when a date can hold it. */
  | { readonly kind: 'implausible'; readonly sent: number | string; readonly at: Date | undefined; readonly why: 'future' | 'before-2010' };

export interface ReadAlert {
  /** The Threat Stack id, or one derived from the content: event_id, ledger key and de-duplication key. */
  readonly id: string;
  readonly title: string | undefined;
  readonly createdAt: CreatedAt | undefined;
  /** Undefined when it could not be read: such an alert always pages, at the unknown-severity priority. */
  readonly severity: Severity | undefined;
  readonly organizationId: string | undefined;
  readonly organizationName: string | undefined;
  readonly serverOrRegion: string | undefined;
  readonly source: string | undefined;
  /** The object as received (unknown fields kept): the incident shows unreadable and extra fields from it. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly receivedAt: Date;
  /** Fields that are missing or did not parse. */
  readonly unreadable: readonly AlertIssue[];
  /** What the relay did: an id derived, created_at read as seconds or flagged, a field cut or shortened. */
  readonly notes: readonly AlertIssue[];
}

export interface ReadContext {
  /** When the relay received the alert: the reference for a creation time "in the future". */
  readonly receivedAt: Date;
  /** The id ingest chose (carried by the queue message): never derived again from a copy that was cut. */
  readonly id?: string | undefined;
  /** What ingest did to the object before queueing it. */
  readonly notes?: readonly AlertIssue[] | undefined;
}

/** An alert the relay could read only in part, or had to change: it pages as a degraded incident. */
export const isDegraded = (alert: ReadAlert): boolean => alert.unreadable.length > 0 || alert.notes.length > 0;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON with every object's keys sorted: the same alert gives the same text whatever order its keys came in. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, child: unknown) =>
    isPlainObject(child) ? Object.fromEntries(Object.entries(child).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : child,
  ) ?? 'null';

/** A stable id for an alert without a usable one, so that a batch sent again is still de-duplicated. */
export const deriveAlertId = (fields: Readonly<Record<string, unknown>>): string =>
  `${DERIVED_ID_PREFIX}${createHash('sha256').update(canonicalJson(fields)).digest('hex').slice(0, 32)}`;

const usableId = (value: unknown): value is string =>
  typeof value === 'string' && value.trim() !== '' && value.length <= MAX_ALERT_ID_CHARS;

const DERIVED = "the relay derived an id from the alert's content";

const idProblem = (fields: Readonly<Record<string, unknown>>): string | undefined => {
  const value = fields.id;
  if (usableId(value)) return undefined;
  if (!Object.hasOwn(fields, 'id')) return `missing: ${DERIVED}`;
  if (typeof value === 'string' && value.trim() !== '') return `longer than ${MAX_ALERT_ID_CHARS} characters: ${DERIVED}`;
  return `expected a non-blank string: ${DERIVED}`;
};

/**
 * Two spellings of a time that are not the documented one but leave no doubt: an ISO-8601 date-time
 * with its zone ("2017-12-06T16:12:41.417Z"), and epoch milliseconds with a zero fraction
 * ("1459447024000.0"). They are read, with a note, rather than shown as unreadable.
 */
const ISO_8601_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const WHOLE_DECIMAL = /^\s*-?\d+\.0+\s*$/;

type SentTime = { readonly ms: number; readonly sent: number | string; readonly note?: string };

const readSentTime = (value: unknown): SentTime | undefined => {
  const integer = decodeWith(IntegerFromNumberOrString, value);
  if (integer.kind === 'valid') return { ms: integer.value, sent: integer.value };
  if (typeof value !== 'string') return undefined;
  if (WHOLE_DECIMAL.test(value)) {
    const ms = Number(value);
    return Number.isSafeInteger(ms) ? { ms, sent: value, note: 'sent with a decimal point: read as epoch milliseconds' } : undefined;
  }
  const ms = ISO_8601_DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? undefined : { ms, sent: value, note: 'sent as an ISO-8601 date-time, not epoch milliseconds: read as such' };
};

/** `created_at` in any of the spellings above, through the same `field` reader as the other fields. */
/** The instant a created_at names, in epoch ms, however it was spelled (a number, digits, `…0.0`, ISO-8601); undefined when unreadable. */
export const sentTimeMs = (value: unknown): number | undefined => readSentTime(value)?.ms;

const SentTimeCodec = new t.Type<SentTime, SentTime, unknown>(
  'SentTime',
  (u): u is SentTime => typeof u === 'object' && u !== null && 'ms' in u,
  (u, c) => {
    const time = readSentTime(u);
    return time === undefined ? t.failure(u, c) : t.success(time);
  },
  (time) => time,
);

const readCreatedAt = (time: SentTime, receivedAt: Date): CreatedAt => {
  const { ms: sent } = time;
  const latest = receivedAt.getTime() + FUTURE_TOLERANCE_MS;
  const plausible = (ms: number): boolean => ms >= EARLIEST_PLAUSIBLE_MS && ms <= latest;
  if (plausible(sent)) return { kind: 'milliseconds', at: new Date(sent) };
  // Seconds only for a plain number: an ISO-8601 date-time is never in seconds.
  if (typeof time.sent === 'number' && plausible(sent * 1000)) return { kind: 'seconds', at: new Date(sent * 1000), sent };
  return {
    kind: 'implausible',
    sent: time.sent,
    at: Math.abs(sent) <= MAX_DATE_MS ? new Date(sent) : undefined,
    why: sent > latest ? 'future' : 'before-2010',
  };
};

/** What the incident says about a creation time it did not take as plain milliseconds. */
const createdAtNote = (createdAt: CreatedAt): string | undefined => {
  if (createdAt.kind === 'seconds') return 'sent in seconds, not milliseconds: read as seconds';
  if (createdAt.kind === 'milliseconds') return undefined;
  return createdAt.why === 'future' ? 'more than a day after the relay received the alert: shown as sent' : 'before 2010: shown as sent';
};

/**
 * Reads any JSON object as an alert. Never fails: what cannot be read is reported in `unreadable`,
 * and a missing or unusable id is replaced by one derived from the content.
 */
export const readAlert = (fields: Readonly<Record<string, unknown>>, context: ReadContext): ReadAlert => {
  const unreadable: AlertIssue[] = [];
  const notes: AlertIssue[] = [];
  const present = (key: string): boolean => Object.hasOwn(fields, key);

  /** A documented field through its codec; `undefined` (and a problem, unless optional and absent) when it does not parse. */
  const field = <A>(key: string, codec: t.Decoder<unknown, A>, expected: string, optional = false): A | undefined => {
    if (!present(key)) {
      if (!optional) unreadable.push({ field: key, problem: 'missing' });
      return undefined;
    }
    const decoded = decodeWith(codec as t.Mixed, fields[key]);
    if (decoded.kind === 'valid') return decoded.value as A;
    unreadable.push({ field: key, problem: `expected ${expected}` });
    return undefined;
  };

  const problem = idProblem(fields);
  if (problem !== undefined) unreadable.push({ field: 'id', problem });
  const title = field('title', t.string, 'text');
  const sentCreatedAt = field('created_at', SentTimeCodec, 'epoch milliseconds, an integer or a string of digits');
  const severity = field('severity', SeverityCodec, '1, 2 or 3');
  const organizationId = field('organization_id', t.string, 'text');
  const serverOrRegion = field('server_or_region', t.string, 'text');
  const source = field('source', t.string, 'text');
  const lowerName = field('organization_name', t.string, 'text', true);
  const upperName = field('organization_Name', t.string, 'text', true);
  const organizationName = lowerName ?? upperName;

  const createdAt = sentCreatedAt === undefined ? undefined : readCreatedAt(sentCreatedAt, context.receivedAt);
  if (sentCreatedAt?.note !== undefined) notes.push({ field: 'created_at', problem: sentCreatedAt.note });
  const note = createdAt === undefined ? undefined : createdAtNote(createdAt);
  if (note !== undefined) notes.push({ field: 'created_at', problem: note });

  const id = usableId(context.id) ? context.id : usableId(fields.id) ? fields.id : deriveAlertId(fields);
  return {
    id,
    title,
    createdAt,
    severity,
    organizationId,
    organizationName,
    serverOrRegion,
    source,
    fields,
    receivedAt: context.receivedAt,
    unreadable,
    notes: [...(context.notes ?? []), ...notes],
  };
};

/**
 * The alert's issues as log-safe problems: `alerts[3].severity: expected 1, 2 or 3`. A field that is
 * not documented is named `(an extra field)`: its name came from the payload.
 */
export const describeIssues = (alert: ReadAlert, path: string): string[] =>
  [...alert.unreadable, ...alert.notes].map(
    (issue) => `${path ? `${path}.` : ''}${isDocumentedField(issue.field) ? issue.field : '(an extra field)'}: ${issue.problem}`,
  );
