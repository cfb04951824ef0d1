import { isLeft } from 'fp-ts/lib/Either';
import type { Alert } from './codec';
import { AlertBatchCodec, AlertCodec } from './codec';
import { describeProblems } from './problems';

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
  const single = AlertCodec.decode(body);
  if (isLeft(single)) {
    return {
      ok: false,
      problems: isObject(body)
        ? describeProblems(single.left)
        : ['(root): expected an object {"alerts": [...]} or a single alert object'],
    };
  }
  return { ok: true, alerts: [single.right], rejected: [] };
};

const decodeElements = (elements: readonly unknown[], path: string): DecodedWebhook => {
  const alerts: Alert[] = [];
  const rejected: RejectedAlert[] = [];
  elements.forEach((raw, index) => {
    const decoded = AlertCodec.decode(raw);
    if (isLeft(decoded)) rejected.push({ index, problems: describeProblems(decoded.left, `${path}[${index}]`), raw });
    else alerts.push(decoded.right);
  });
  return { ok: true, alerts, rejected };
};
