import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../common/secret';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Which configured token a webhook call presented. */
export type TokenMatch = 'current' | 'previous';

/**
 * Constant-time comparison of the token in the webhook URL with the current token and, during a
 * rotation, the previous one. Both sides are hashed first so that neither the length nor a common
 * prefix leaks through timing, and both comparisons always run (the second against the current
 * token again when there is no previous one), so timing does not tell which one matched.
 */
export const matchToken = (presented: string | undefined, current: Secret, previous?: Secret): TokenMatch | undefined => {
  const given = digest(presented ?? '');
  const isCurrent = timingSafeEqual(given, digest(current.reveal()));
  const isPrevious = timingSafeEqual(given, digest((previous ?? current).reveal())) && previous !== undefined;
  if (presented === undefined) return undefined;
  return isCurrent ? 'current' : isPrevious ? 'previous' : undefined;
};

/** True when the presented token is the expected one (constant time, as `matchToken`). */
export const tokenMatches = (presented: string | undefined, expected: Secret): boolean => matchToken(presented, expected) !== undefined;

/** URL-safe characters only, at least 16 of them: it travels in the webhook path. */
export const WEBHOOK_TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

/** The problem with a token value, or undefined: shared by every place a token is read. */
export const checkWebhookToken = (value: string): string | undefined =>
  WEBHOOK_TOKEN_PATTERN.test(value) ? undefined : 'must be 16 to 256 URL-safe characters (A-Z a-z 0-9 . _ ~ -)';
