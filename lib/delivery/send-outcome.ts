/** Why a send did not deliver, for the failure metrics (one per class) and SquadcastOutageAlarm. */
export type FailureClass = 'server-error' | 'throttled' | 'timeout' | 'network' | 'refused';

/** The result of one POST to Squadcast, decided in one place. */
export type SendOutcome =
  | { readonly kind: 'delivered'; readonly status: number }
  | {
      readonly kind: 'transient';
      readonly reason: string;
      readonly failure: Exclude<FailureClass, 'refused'>;
      readonly retryAfterMs?: number;
    }
  | { readonly kind: 'permanent'; readonly reason: string; readonly failure: 'refused' };

/** Parses `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export const parseRetryAfter = (header: string | null, now: Date): number | undefined => {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
};

/**
 * 2xx: delivered. 408, 429 and 5xx: Squadcast is busy or down, retry later. Every other status
 * (400, 401, 404, 413, redirects...) will not change on retry: dead-letter it with the reason.
 */
export const classifyStatus = (status: number, retryAfter: string | null, now: Date): SendOutcome => {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const retryAfterMs = parseRetryAfter(retryAfter, now);
  if (status === 408 || status === 429 || status >= 500) {
    const failure = status === 429 ? 'throttled' : status === 408 ? 'timeout' : 'server-error';
    return { kind: 'transient', reason: `Squadcast answered ${status}`, failure, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  return { kind: 'permanent', reason: `Squadcast answered ${status}`, failure: 'refused' };
};

/** Timeouts and network errors are transient. Only the error's name or code is kept: messages can carry addresses. */
export const classifyError = (error: unknown): SendOutcome => {
  const err = error as { name?: string; cause?: { code?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError')
    return { kind: 'transient', reason: 'Squadcast request timed out', failure: 'timeout' };
  return { kind: 'transient', reason: `network error (${err?.cause?.code ?? err?.name ?? 'unknown'})`, failure: 'network' };
};
