import { isLeft } from 'fp-ts/Either';
import type { Alert } from './codec';
import { AlertBatchCodec, AlertCodec } from './codec';
import { cutToDepth, isNestedDeeperThan, MAX_ALERT_DEPTH } from './json-depth';
import { describeProblems } from '../common/problems';

/** An element of a batch that is not a decodable alert. `raw` goes to the dead-letter queue, never to a response or a log. */
export interface RejectedAlert {
  readonly index: number;
  readonly problems: readonly string[];
  readonly raw: unknown;
}

export type DecodedWebhook =
  | { readonly ok: true; readonly alerts: readonly Alert[]; readonly rejected: readonly RejectedAlert[] }
  | { readonly ok: false; readonly problems: readonly string[] };

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * Threat Stack ids are 24 hex digits or a UUID. The id keys the delivery ledger, and DynamoDB
 * refuses a partition key over 2048 bytes: a longer id could be accepted but never delivered.
 */
export const MAX_ALERT_ID_CHARS = 256;
const idTooLong = (alert: Alert): boolean => alert.id.length > MAX_ALERT_ID_CHARS;
const idProblem = (path: string): string => `${path ? `${path}.` : ''}id: expected at most ${MAX_ALERT_ID_CHARS} characters`;

/**
 * Accepts every shape Threat Stack is documented to send: `{"alerts": [...]}`, a bare alert
 * object, and (leniently) a top-level array of alerts. In a batch, each alert stands alone:
 * the valid ones are kept and the invalid ones are returned with their problems.
 * A body with no decodable shape at all is a failure with field paths.
 */
export const decodeWebhookBody = (body: unknown): DecodedWebhook => {
  if (Array.isArray(body)) return decodeElements(body, '');
  if (isObject(body) && 'alerts' in body) {
    const batch = AlertBatchCodec.decode(body);
    if (isLeft(batch)) return { ok: false, problems: describeProblems(batch.left) };
    return decodeElements(batch.right.alerts, 'alerts');
  }
  if (isNestedDeeperThan(body, MAX_ALERT_DEPTH)) return { ok: false, problems: [`(root): nested deeper than ${MAX_ALERT_DEPTH} levels`] };
  const single = AlertCodec.decode(body);
  if (isLeft(single)) {
    return {
      ok: false,
      problems: isObject(body)
        ? describeProblems(single.left)
        : ['(root): expected an object {"alerts": [...]} or a single alert object'],
    };
  }
  if (idTooLong(single.right)) return { ok: false, problems: [idProblem('')] };
  return { ok: true, alerts: [single.right], rejected: [] };
};

const decodeElements = (elements: readonly unknown[], path: string): DecodedWebhook => {
  const alerts: Alert[] = [];
  const rejected: RejectedAlert[] = [];
  elements.forEach((raw, index) => {
    if (isNestedDeeperThan(raw, MAX_ALERT_DEPTH)) {
      rejected.push({ index, problems: [`${path}[${index}]: nested deeper than ${MAX_ALERT_DEPTH} levels`], raw: cutToDepth(raw, MAX_ALERT_DEPTH) });
      return;
    }
    const decoded = AlertCodec.decode(raw);
    if (isLeft(decoded)) rejected.push({ index, problems: describeProblems(decoded.left, `${path}[${index}]`), raw });
    else if (idTooLong(decoded.right)) rejected.push({ index, problems: [idProblem(`${path}[${index}]`)], raw });
    else alerts.push(decoded.right);
  });
  return { ok: true, alerts, rejected };
};
