/** Cuts to at most `maxChars` code points (never splitting a surrogate pair), reading no further than needed. */
export const truncate = (text: string, maxChars: number): string => {
  if (text.length <= maxChars) return text;
  let kept = 0;
  let end = 0;
  for (const char of text) {
    if (kept === maxChars) return `${text.slice(0, end - lastLength(text, end))}…`;
    kept += 1;
    end += char.length;
  }
  return text;
};

/** Length in code units of the code point that ends at `end`. */
const lastLength = (text: string, end: number): number => {
  const code = text.charCodeAt(end - 1);
  return code >= 0xdc00 && code <= 0xdfff && end >= 2 ? 2 : 1;
};

/** Line breaks as CommonMark, Unicode and most chat clients see them (CR, LF, CRLF, NEL, LS, PS) and tabs. */
const LINE_BREAKS = /\r\n?|[\n\t\u0085\u2028\u2029]/g;
/**
 * C0 and C1 control characters, DEL, and the bidirectional controls that can make text display in
 * another order than it is stored (the "Trojan Source" characters): none of them is visible.
 */
const INVISIBLE_CONTROLS = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
/** A surrogate code unit that is not part of a pair: not text, and JSON-escaped as six bytes. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text fit for one line anywhere: line breaks and tabs become a space, invisible control characters
 * are removed, a lone surrogate becomes U+FFFD. Everything else is kept as sent.
 */
export const plainText = (text: string): string =>
  text.replace(LINE_BREAKS, ' ').replace(INVISIBLE_CONTROLS, '').replace(LONE_SURROGATE, '\ufffd');

/** True when `text` holds a surrogate code unit that is not part of a pair (it is not well-formed UTF-16). */
export const hasLoneSurrogate = (text: string): boolean => {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(text);
};

const escapeUnit = (unit: string): string => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * An identifier for a person to read and tell apart: a backslash is doubled, and every character
 * that would not show, or would show as another (control and bidirectional characters, a lone
 * surrogate), is written as its `\uXXXX` escape. Two distinct ids never render alike.
 */
export const escapedId = (id: string): string =>
  id.replace(/\\/g, '\\\\').replace(INVISIBLE_CONTROLS, escapeUnit).replace(LONE_SURROGATE, escapeUnit);

/** Bytes of `text` as the content of a JSON string (escapes included), which is what a JSON body carries. */
export const jsonStringBytes = (text: string): number => Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
