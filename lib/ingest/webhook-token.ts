import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../common/secret';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Constant-time comparison of the token in the webhook URL with the configured one.
 * Both sides are hashed first so that neither the length nor a common prefix leaks through timing.
 */
export const tokenMatches = (presented: string | undefined, expected: Secret): boolean =>
  timingSafeEqual(digest(presented ?? ''), digest(expected.reveal())) && presented !== undefined;

/** URL-safe characters only, at least 16 of them: it travels in the webhook path. */
export const WEBHOOK_TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;
