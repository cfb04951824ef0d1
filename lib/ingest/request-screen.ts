import type { DecodedWebhook } from '../alert/decode-webhook';
import { countElements, decodeWebhookBody } from '../alert/decode-webhook';
import type { Checked } from '../common/checked';
import { invalid, valid } from '../common/checked';
import { parseJson, TooManyEscapedKeys } from '../common/json';
import type { LogFields, Logger } from '../common/logger';
import type { CountMetric, RelayMetrics } from '../common/metrics';
import type { Secret } from '../common/secret';
import type { SourceAllowlist } from './source-allowlist';
import type { TokenMatch } from './webhook-token';
import { matchToken } from './webhook-token';

/**
 * The refusal ladder of a webhook call, in order: the caller's address, the token, the body's
 * coding, its size, JSON, how many alerts, and whether it holds any. Each refusal is counted and
 * logged with its reason (never the token, never the body); a call that passes comes out decoded.
 */

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
 * them fit in 4 MiB) are the worst case, not the body size: `npm run bench`, figure 6, measures it
 * (docs/performance.md). Beyond it, 413, counted and alarmed as a body that is too large.
 */
export const MAX_ALERTS_PER_REQUEST = 5_000;
/**
 * The most object keys written with an escape (`"caf\u00e9"`, `"a\\b"`) one request may hold. The
 * relay reads each such key apart (lib/common/json.ts), a few microseconds each: 300 000 of them
 * (60 in each of 5000 alerts, within 4 MiB) took ingest past half its timeout at 512 MB. Threat
 * Stack's fields are plain names; 20 000 leaves 4 for each of 5000 alerts, and costs about a tenth
 * of a second at 512 MB (`npm run bench`, figure 6). Beyond it, 413 before the body is parsed, counted
 * and alarmed as a body that is too large.
 */
export const MAX_ESCAPED_KEYS_PER_REQUEST = 20_000;

/** What a refused call is answered with (lib/ingest/http-response.ts maps each to its status). */
export type Refusal =
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'unsupported-encoding' }
  | { readonly kind: 'payload-too-large'; readonly limitBytes: number }
  | { readonly kind: 'too-many-alerts'; readonly limitAlerts: number; readonly alerts: number }
  | { readonly kind: 'too-many-escaped-keys'; readonly limitEscapedKeys: number }
  | { readonly kind: 'bad-request'; readonly error: string; readonly problems: readonly string[] };

/** A call the ladder refused, or one that passed: which token it presented, and its body decoded. */
export type Screened =
  | { readonly kind: 'refused'; readonly result: Refusal }
  | { readonly kind: 'passed'; readonly token: TokenMatch; readonly decoded: DecodedWebhook; readonly now: Date };

export interface ScreenDeps {
  readonly allowlist: SourceAllowlist;
  readonly token: Secret;
  /** During a rotation, the token being rotated out: accepted too, and logged as `token: previous`. */
  readonly previousToken?: Secret;
  readonly log: Logger;
  readonly metrics: RelayMetrics;
  readonly now: () => Date;
}

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

/**
 * Counts and logs a refusal. Threat Stack sends a call answered with anything but 200 again, at most
 * 3 times (docs/reference/threatstack-webhook.md): the same refusal, each time, and then its alerts
 * are gone. So each one is counted, and alarmed.
 */
const refuse = (deps: ScreenDeps, reason: RefusalReason, result: Refusal, fields: LogFields): Screened => {
  deps.metrics.count(REFUSAL_METRIC[reason]);
  deps.log.warn('webhook refused', { reason, ...fields });
  return { kind: 'refused', result };
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
const readJsonBody = (body: Buffer): Checked<unknown> | { readonly kind: 'too-many-escaped-keys' } => {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return invalid('body is not valid UTF-8');
  }
  try {
    return valid(parseJson(text, MAX_ESCAPED_KEYS_PER_REQUEST));
  } catch (error) {
    if (error instanceof TooManyEscapedKeys) return { kind: 'too-many-escaped-keys' };
    return invalid('body is not valid JSON');
  }
};

/** The ladder: the first rung a call fails refuses it; a call that fails none comes out decoded. */
export const screenRequest = (request: WebhookRequest, deps: ScreenDeps): Screened => {
  const sourceIp = request.sourceIp ?? null;
  // Both 403s are the same result: a caller cannot tell a wrong address from a wrong token.
  if (!deps.allowlist.allows(request.sourceIp)) return refuse(deps, 'source-ip', { kind: 'forbidden' }, { sourceIp });
  const token = matchToken(request.token, deps.token, deps.previousToken);
  if (token === undefined && request.smokeTest === true) {
    deps.log.info('smoke test: a wrong token refused, as expected (not counted)', { sourceIp });
    return { kind: 'refused', result: { kind: 'forbidden' } };
  }
  if (token === undefined) return refuse(deps, 'token', { kind: 'forbidden' }, { sourceIp });
  const codings = contentCodings(request.contentEncoding);
  if (codings.length > 0) {
    const named = codings.map((coding) => (KNOWN_CODINGS.has(coding) ? coding : 'other'));
    return refuse(deps, 'content-encoding', { kind: 'unsupported-encoding' }, { sourceIp, contentEncoding: named });
  }
  if (request.body.length > MAX_BODY_BYTES)
    return refuse(deps, 'too-large', { kind: 'payload-too-large', limitBytes: MAX_BODY_BYTES }, { sourceIp, bytes: request.body.length });
  const parsed = readJsonBody(request.body);
  if (parsed.kind === 'too-many-escaped-keys') {
    const result = { kind: 'too-many-escaped-keys', limitEscapedKeys: MAX_ESCAPED_KEYS_PER_REQUEST } as const;
    return refuse(deps, 'too-large', result, { sourceIp, limitEscapedKeys: MAX_ESCAPED_KEYS_PER_REQUEST });
  }
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
  return { kind: 'passed', token, decoded: checked.value, now };
};
