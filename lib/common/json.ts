import { randomBytes } from 'node:crypto';

/**
 * `JSON.parse`, with every object key that holds an escape (`"a\n"`, `"k\uffff"`, `"\""`) read as
 * written.
 *
 * V8's JSON parser (Node 24 and 26, so Lambda's nodejs24.x too) can read an escaped key as another
 * key it met before in an object of the same shape: after `{"k\\": 1}` was parsed once in a process,
 * `{"k\uffff": 1}` comes back as `{"k\\": 1}` (nodejs/node#63785, open). Values are not affected.
 * The relay writes such escapes itself (JSON.stringify escapes quotes, backslashes and control
 * characters; queue bodies escape what SQS refuses, lib/queue/messages.ts), so an alert's field could
 * be shown to the on-call engineer under another field's name, or hidden behind it. Found by the
 * ingest property test (tests/property/ingest.test.ts).
 *
 * Texts without a backslash, nearly all, go straight to JSON.parse. Otherwise each key that holds an
 * escape is replaced by a plain placeholder before JSON.parse, and put back, decoded as a string
 * value (which V8 reads correctly), on the object it belongs to. Errors are JSON.parse's own, on the
 * text as sent.
 */
export const parseJson = (text: string): unknown => {
  if (!text.includes('\\')) return JSON.parse(text);
  let marker: string;
  do marker = `relay-escaped-key-${randomBytes(8).toString('hex')}-`;
  while (text.includes(marker));

  const keys: string[] = [];
  // Every string token, in order (outside strings JSON has no quote, so the tokens line up); a key
  // is a string followed by a colon.
  const rewritten = text.replace(STRING_TOKEN, (token: string, colon: string | undefined) => {
    if (colon === undefined || !token.includes('\\')) return token;
    keys.push(token.slice(0, token.lastIndexOf('"') + 1));
    return `"${marker}${keys.length - 1}"${colon}`;
  });
  if (keys.length === 0) return JSON.parse(text);

  let decoded: string[];
  let value: unknown;
  try {
    decoded = keys.map((key) => JSON.parse(key) as string);
    value = JSON.parse(rewritten);
  } catch {
    // Not JSON: JSON.parse says where, on the text as sent.
    return JSON.parse(text);
  }
  restoreKeys(value, marker, decoded);
  return value;
};

const STRING_TOKEN = /"[^"\\]*(?:\\[\s\S][^"\\]*)*"(\s*:)?/g;

/** Puts the decoded keys back in place of their placeholders, in order, on every object (no recursion: any depth). */
const restoreKeys = (root: unknown, marker: string, decoded: readonly string[]): void => {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) pending.push(item);
      continue;
    }
    const object = value as Record<string, unknown>;
    const entries = Object.entries(object);
    for (const [, child] of entries) pending.push(child);
    if (!entries.some(([key]) => key.startsWith(marker))) continue;
    // Deleted and defined again in the same order: a later duplicate keeps the first one's place and
    // takes its value, and `__proto__` is an own property, as JSON.parse does.
    for (const [key] of entries) delete object[key];
    for (const [key, child] of entries) {
      const name = key.startsWith(marker) ? (decoded[Number(key.slice(marker.length))] as string) : key;
      Object.defineProperty(object, name, { value: child, writable: true, enumerable: true, configurable: true });
    }
  }
};
