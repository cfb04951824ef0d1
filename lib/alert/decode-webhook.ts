import type { Checked } from '../common/checked';
import { decodeWith, invalid, valid } from '../common/checked';
import type { Alert } from './codec';
import { AlertBatchCodec, AlertCodec } from './codec';
import { cutToDepth, isNestedDeeperThan, MAX_ALERT_DEPTH } from './json-depth';

/** An element of a batch that is not a decodable alert. `raw` goes to the dead-letter queue, never to a response or a log. */
export interface RejectedAlert {
  readonly index: number;
  readonly problems: readonly string[];
  readonly raw: unknown;
}

export interface DecodedWebhook {
  readonly alerts: readonly Alert[];
  readonly rejected: readonly RejectedAlert[];
}

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
export const decodeWebhookBody = (body: unknown): Checked<DecodedWebhook> => {
  if (Array.isArray(body)) return decodeElements(body, '');
  if (isObject(body) && 'alerts' in body) {
    const batch = decodeWith(AlertBatchCodec, body);
    return batch.kind === 'invalid' ? batch : decodeElements(batch.value.alerts, 'alerts');
  }
  if (isNestedDeeperThan(body, MAX_ALERT_DEPTH)) return invalid(`(root): nested deeper than ${MAX_ALERT_DEPTH} levels`);
  if (!isObject(body)) return invalid('(root): expected an object {"alerts": [...]} or a single alert object');
  const single = decodeWith(AlertCodec, body);
  if (single.kind === 'invalid') return single;
  if (idTooLong(single.value)) return invalid(idProblem(''));
  return valid({ alerts: [single.value], rejected: [] });
};

const decodeElements = (elements: readonly unknown[], path: string): Checked<DecodedWebhook> => {
  const alerts: Alert[] = [];
  const rejected: RejectedAlert[] = [];
  elements.forEach((raw, index) => {
    if (isNestedDeeperThan(raw, MAX_ALERT_DEPTH)) {
      rejected.push({
        index,
        problems: [`${path}[${index}]: nested deeper than ${MAX_ALERT_DEPTH} levels`],
        raw: cutToDepth(raw, MAX_ALERT_DEPTH),
      });
      return;
    }
    const decoded = decodeWith(AlertCodec, raw, `${path}[${index}]`);
    if (decoded.kind === 'invalid') rejected.push({ index, problems: decoded.problems, raw });
    else if (idTooLong(decoded.value)) rejected.push({ index, problems: [idProblem(`${path}[${index}]`)], raw });
    else alerts.push(decoded.value);
  });
  return valid({ alerts, rejected });
};
