import * as t from 'io-ts';
import type { Checked } from '../common/checked';
import { decodeWith, invalid, valid } from '../common/checked';
import { AlertBatchCodec } from './codec';
import { cutToDepth, isNestedDeeperThan, MAX_ALERT_DEPTH } from './json-depth';
import type { AlertIssue, ReadAlert } from './read-alert';
import { ALERT_FIELDS, isDocumentedField, readAlert } from './read-alert';

/** An element of a batch that cannot be an alert (not a JSON object). `raw` goes to the dead-letter queue, never to a response or a log. */
export interface RejectedAlert {
  readonly index: number;
  readonly problems: readonly string[];
  readonly raw: unknown;
}

/** An element that is a JSON object: it becomes an incident, whatever its fields hold. */
export interface ReceivedAlert {
  /** Where it was in the body, for log lines: `alerts[3]`, `[3]`, or `` for a bare alert. */
  readonly path: string;
  /** The object as received, cut to MAX_ALERT_DEPTH: what the queue message carries. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly read: ReadAlert;
  /** What ingest did to the object before reading it (a cut): the queue message carries it to deliver. */
  readonly notes: readonly AlertIssue[];
}

export interface DecodedWebhook {
  readonly alerts: readonly ReceivedAlert[];
  readonly rejected: readonly RejectedAlert[];
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** A bare object is an alert when it has at least one documented alert field. */
const isAlertShaped = (body: Record<string, unknown>): boolean => ALERT_FIELDS.some((key) => Object.hasOwn(body, key));

/**
 * The fields that make an object one alert rather than a batch's wrapper: a wrapper may well carry
 * its organization, never an alert's own id, title, severity or creation time.
 */
const OWN_ALERT_FIELDS = ['id', 'title', 'severity', 'created_at'] as const;
const hasOwnAlertFields = (body: Record<string, unknown>): boolean => OWN_ALERT_FIELDS.some((key) => Object.hasOwn(body, key));

const NOT_A_BATCH = `expected {"alerts": [...]} or an alert object (with ${ALERT_FIELDS.slice(0, 7).join(', ')})`;

/**
 * An alert keeps at most this many top-level fields: Threat Stack's carry a dozen or so, and every
 * field costs work at ingest (a crafted alert of 200 000 fields took 2.5 s to shorten into one
 * queue message). Beyond it, the documented fields and the first others are kept, the rest counted
 * in a note: the alert pages, degraded.
 */
export const MAX_ALERT_FIELDS = 1_000;

const boundFields = (
  element: Record<string, unknown>,
): { readonly element: Record<string, unknown>; readonly notes: readonly AlertIssue[] } => {
  const keys = Object.keys(element);
  if (keys.length <= MAX_ALERT_FIELDS) return { element, notes: [] };
  const documented = keys.filter(isDocumentedField);
  const others = keys.filter((key) => !isDocumentedField(key)).slice(0, MAX_ALERT_FIELDS - documented.length);
  const kept = new Set([...documented, ...others]);
  const left = keys.length - kept.size;
  return {
    element: Object.fromEntries(keys.filter((key) => kept.has(key)).map((key) => [key, element[key]])),
    notes: [{ field: '(other fields)', problem: `${left} fields left out: an alert keeps at most ${MAX_ALERT_FIELDS}` }],
  };
};

const receive = (whole: Record<string, unknown>, path: string, receivedAt: Date, odd: readonly AlertIssue[] = []): ReceivedAlert => {
  const bounded = boundFields(whole);
  const element = bounded.element;
  const found = [...odd, ...bounded.notes];
  if (!isNestedDeeperThan(element, MAX_ALERT_DEPTH))
    return { path, fields: element, notes: found, read: readAlert(element, { receivedAt, notes: found }) };
  const notes = [
    ...found,
    ...Object.entries(element)
      .filter(([, value]) => isNestedDeeperThan(value, MAX_ALERT_DEPTH - 1))
      .map(([field]) => ({ field, problem: `nested deeper than ${MAX_ALERT_DEPTH} levels: cut at that depth` })),
  ];
  const fields = cutToDepth(element, MAX_ALERT_DEPTH) as Record<string, unknown>;
  return { path, fields, notes, read: readAlert(fields, { receivedAt, notes }) };
};

const one = (alert: ReceivedAlert): DecodedWebhook => ({ alerts: [alert], rejected: [] });

/** `{"alerts": {one alert}}`: a batch of one, sent without its list. */
const WrappedAlertCodec = t.type({ alerts: t.UnknownRecord });

/** What an odd `alerts` field is, never what it holds (a list there is empty: a list with elements is the batch). */
const describeKind = (value: unknown): string => (Array.isArray(value) ? 'an empty list' : value === null ? 'null' : `a ${typeof value}`);

/** How many alerts (or would-be alerts) a parsed body holds, read before any of them is: the list's length (and the body, if it is one too), else one. */
export const countElements = (body: unknown): number => {
  if (Array.isArray(body)) return body.length;
  if (!isObject(body) || !Array.isArray(body.alerts)) return 1;
  return body.alerts.length + (body.alerts.length > 0 && hasOwnAlertFields(body) ? 1 : 0);
};

/**
 * A body that is an alert and holds a list as well (`{"id": ..., "alerts": [...]}`): the body pages
 * as its own alert (degraded, naming the field), and each element of the list on its own. Neither
 * hides the other.
 */
const bodyAlertBesideList = (body: Record<string, unknown>, list: readonly unknown[], receivedAt: Date): DecodedWebhook => {
  const { alerts: _list, ...own } = body;
  const problem = `a list of ${list.length} beside the alert's own fields: the body pages as this alert, each element on its own`;
  const elements = decodeElements(list, 'alerts', receivedAt);
  return { alerts: [receive(own, '', receivedAt, [{ field: 'alerts', problem }]), ...elements.alerts], rejected: elements.rejected };
};

/**
 * Accepts every shape Threat Stack is documented to send: `{"alerts": [...]}`, a bare alert
 * object, and (leniently) a top-level array of alerts or `{"alerts": {one alert}}`. Every element
 * that is a JSON object is an alert, read leniently (`readAlert`); an element that is not an object
 * is returned as rejected, with its problem. A body that is itself an alert pages whatever its
 * `alerts` field holds (`"oops"`, `[]`, a list: then each element too), degraded, the incident
 * naming the field. Only a body with nothing alert-like is a failure, with field paths.
 * docs/operator-guide.md, "Which bodies page", states the rule with every shape.
 */
export const decodeWebhookBody = (body: unknown, receivedAt: Date): Checked<DecodedWebhook> => {
  if (Array.isArray(body)) return valid(decodeElements(body, '', receivedAt));
  if (!isObject(body)) return invalid('(root): expected an object {"alerts": [...]} or a single alert object');
  if (!Object.hasOwn(body, 'alerts'))
    return isAlertShaped(body) ? valid(one(receive(body, '', receivedAt))) : invalid(`(root): ${NOT_A_BATCH}`);
  if (Array.isArray(body.alerts) && body.alerts.length > 0 && hasOwnAlertFields(body))
    return valid(bodyAlertBesideList(body, body.alerts, receivedAt));

  const batch = decodeWith(AlertBatchCodec, body);
  if (batch.kind === 'valid' && (batch.value.alerts.length > 0 || !isAlertShaped(body)))
    return valid(decodeElements(batch.value.alerts, 'alerts', receivedAt));
  const wrapped = decodeWith(WrappedAlertCodec, body);
  if (wrapped.kind === 'valid' && isAlertShaped(wrapped.value.alerts))
    return valid(one(receive(wrapped.value.alerts, 'alerts', receivedAt)));
  if (isAlertShaped(body)) {
    const problem = `${describeKind(body.alerts)}, not a list of alerts: the body itself is read as the alert`;
    return valid(one(receive(body, '', receivedAt, [{ field: 'alerts', problem }])));
  }
  return invalid(`alerts: expected an array of alerts, or one alert object (with ${ALERT_FIELDS.slice(0, 7).join(', ')})`);
};

const decodeElements = (elements: readonly unknown[], path: string, receivedAt: Date): DecodedWebhook => {
  const alerts: ReceivedAlert[] = [];
  const rejected: RejectedAlert[] = [];
  elements.forEach((raw, index) => {
    const at = `${path}[${index}]`;
    if (isObject(raw)) alerts.push(receive(raw, at, receivedAt));
    else rejected.push({ index, problems: [`${at}: expected object`], raw: cutToDepth(raw, MAX_ALERT_DEPTH) });
  });
  return { alerts, rejected };
};
