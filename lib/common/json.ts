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
 * So no escaped key ever reaches JSON.parse. Texts without a backslash, nearly all, go straight to
 * it. Otherwise each escaped key is written out before JSON.parse: as its characters when they need
 * no escape (`"k\u00e9"` becomes `"ké"`), else as a plain placeholder put back, decoded, on the
 * object it belongs to. The same key spelled the same way gets the same replacement, so a body of
 * thousands of alerts with the same fields keeps one shape for them all (one placeholder per
 * occurrence made every object a new shape: seconds for a 4 MiB body, and every later JSON.parse in
 * the process slowed down with it). Errors are JSON.parse's own, on the text as sent.
 *
 * Each escaped key costs a few microseconds (finding, rewriting, restoring), against a few
 * nanoseconds a byte for JSON.parse: a reader that must bound its time passes `maxEscapedKeys`,
 * and a text with more is refused with `TooManyEscapedKeys` once the finder has counted past it,
 * before any rewriting.
 */
export const parseJson = (text: string, maxEscapedKeys = Number.POSITIVE_INFINITY): unknown => {
  const first = text.indexOf('\\');
  if (first < 0) return JSON.parse(text);
  const keys = escapedKeys(text, first, maxEscapedKeys);
  if (keys === undefined || keys.length === 0) return JSON.parse(text);
  let rewritten: Rewritten;
  let value: unknown;
  try {
    rewritten = rewriteKeys(text, keys);
    value = JSON.parse(rewritten.text);
  } catch {
    // Not JSON: JSON.parse says where, on the text as sent.
    return JSON.parse(text);
  }
  return rewritten.placeholders.size === 0 ? value : restoreKeys(value, rewritten.placeholders);
};

/** A text holds more escaped keys than its reader takes (`parseJson`'s `maxEscapedKeys`). */
export class TooManyEscapedKeys extends Error {
  override readonly name = 'TooManyEscapedKeys';
  constructor(readonly limit: number) {
    super(`more than ${limit} object keys written with escapes`);
  }
}

const BACKSLASH = 92;
const COLON = 58;
const QUOTE = '"';
/** Space, tab, line feed, carriage return: JSON's only whitespace. */
const isJsonWhitespace = (code: number): boolean => code === 32 || code === 10 || code === 13 || code === 9;

/** Whether the quote at `index` is escaped: an odd run of backslashes before it. */
const isEscaped = (text: string, index: number): boolean => {
  let run = 0;
  for (let i = index - 1; i >= 0 && text.charCodeAt(i) === BACKSLASH; i--) run++;
  return run % 2 === 1;
};

/**
 * The [start, end) of every key that holds a backslash, found from the backslashes alone: in JSON a
 * backslash is only ever inside a string, and a string's opening quote is the last quote before its
 * first backslash. A string followed by a colon is a key. Undefined when the text cannot be JSON.
 */
const escapedKeys = (text: string, first: number, max: number): number[] | undefined => {
  const found: number[] = [];
  let stringsEnd = -1;
  for (let at = first; at >= 0; at = text.indexOf('\\', stringsEnd + 1)) {
    const start = text.lastIndexOf(QUOTE, at);
    if (start <= stringsEnd) return undefined;
    let end = text.indexOf(QUOTE, at + 1);
    while (end >= 0 && isEscaped(text, end)) end = text.indexOf(QUOTE, end + 1);
    if (end < 0) return undefined;
    stringsEnd = end;
    let next = end + 1;
    while (isJsonWhitespace(text.charCodeAt(next))) next++;
    if (text.charCodeAt(next) === COLON) {
      found.push(start, end + 1);
      if (found.length > 2 * max) throw new TooManyEscapedKeys(max);
    }
  }
  return found;
};

interface Rewritten {
  readonly text: string;
  /** Placeholder -> the key's decoded name. */
  readonly placeholders: ReadonlyMap<string, string>;
}

/** Whether a key's characters, written out, would need an escape: a quote, a backslash or a control character. */
const needsEscape = (name: string): boolean => {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 32 || code === 34 || code === BACKSLASH) return true;
  }
  return false;
};

const rewriteKeys = (text: string, keys: readonly number[]): Rewritten => {
  const replacementOf = new Map<string, string>();
  const placeholders = new Map<string, string>();
  let marker: string | undefined;
  let rewritten = '';
  let last = 0;
  for (let i = 0; i < keys.length; i += 2) {
    const start = keys[i] as number;
    const end = keys[i + 1] as number;
    const spelled = text.slice(start, end);
    let replacement = replacementOf.get(spelled);
    if (replacement === undefined) {
      const name = JSON.parse(spelled) as string;
      if (!needsEscape(name)) replacement = `"${name}"`;
      else {
        marker ??= markerFor(text);
        const placeholder = `${marker}${placeholders.size.toString(36)}`;
        placeholders.set(placeholder, name);
        replacement = `"${placeholder}"`;
      }
      replacementOf.set(spelled, replacement);
    }
    // Appending builds a rope that JSON.parse flattens once: cheaper than an array of 2 pieces a key and a join.
    rewritten += text.slice(last, start) + replacement;
    last = end;
  }
  rewritten += text.slice(last);
  return { text: rewritten, placeholders };
};

/**
 * A short prefix the text does not hold anywhere, so that no key of its own can pass for a
 * placeholder: short, because JSON.parse and the restore read every placeholder key.
 */
const markerFor = (text: string): string => {
  let marker: string;
  do marker = `~${randomBytes(3).toString('hex')}~`;
  while (text.includes(marker));
  return marker;
};

/** An object whose placeholders are its keys' decoded names, in the same order; `__proto__` an own property, as JSON.parse makes it. */
const withKeysRestored = (object: Record<string, unknown>, decoded: ReadonlyMap<string, string>): Record<string, unknown> => {
  const restored: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const name = decoded.get(key) ?? key;
    // A later duplicate takes the first one's place and value, as in JSON.parse.
    if (name === '__proto__')
      Object.defineProperty(restored, name, { value: object[key], writable: true, enumerable: true, configurable: true });
    else restored[name] = object[key];
  }
  return restored;
};

type Container = Record<string | number, unknown>;
const isContainer = (value: unknown): value is Container => typeof value === 'object' && value !== null;

/** Every object that holds a placeholder replaced by one with its keys restored, at any depth (no recursion). */
const restoreKeys = (root: unknown, decoded: ReadonlyMap<string, string>): unknown => {
  const holder: Container = { root };
  const pending: [Container, string | number][] = isContainer(root) ? [[holder, 'root']] : [];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [parent, slot] = next;
    let value = parent[slot] as Container;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (isContainer(value[i])) pending.push([value, i]);
      continue;
    }
    const keys = Object.keys(value);
    if (keys.some((key) => decoded.has(key))) {
      value = withKeysRestored(value, decoded);
      parent[slot] = value;
    }
    for (const key of Object.keys(value)) if (isContainer(value[key])) pending.push([value, key]);
  }
  return holder.root;
};
