/**
 * Alert values into Markdown that reads the same rendered and as plain text.
 *
 * Squadcast renders an incident's description as Markdown in its web UI; the same text, unrendered,
 * is what its API returns and what plain-text channels show. So nothing is backslash-escaped unless
 * CommonMark (with GFM tables and autolinks) would read it as markup at that very position, and
 * alert text never becomes a link, HTML or emphasis:
 * - a machine value (an id, a host, a region, a time) is a code span: verbatim, searchable, never linked;
 * - free text stays as sent, except its words that could be markup or a link, which become code spans.
 * Zero-width characters are never used: a value with one no longer matches a search, and a copy of it is corrupt.
 * https://spec.commonmark.org/0.31.2/#code-spans, https://github.github.com/gfm/#tables-extension-
 */

/** Where the Markdown goes: in a GFM table cell, `|` ends the cell, even inside a code span. */
export type Place = 'table-cell' | 'paragraph';

/** `\|` is the only way to write `|` in a GFM table cell; the table parser removes the backslash. */
const escapePipes = (text: string, place: Place): string => (place === 'table-cell' ? text.replaceAll('|', '\\|') : text);

/**
 * A code span holding `value` exactly. Its fence is one backtick longer than the longest run in the
 * value, and a value that starts or ends with a backtick or a space is padded with one space on each
 * side, which CommonMark strips (a value of spaces only is never stripped, so it is not padded). An empty value, which no code span can hold, is written `(empty)`.
 */
export const codeSpan = (value: string, place: Place): string => {
  if (value === '') return '(empty)';
  const content = escapePipes(value, place);
  const longestRun = (content.match(/`+/g) ?? []).reduce((longest, run) => Math.max(longest, run.length), 0);
  const fence = '`'.repeat(longestRun + 1);
  const pad = /^[ `]|[ `]$/.test(content) && !/^ +$/.test(content) ? ' ' : '';
  return `${fence}${pad}${content}${pad}${fence}`;
};

/**
 * Markup: a code, emphasis, strikethrough, link, HTML or escape character, an entity, or an underscore
 * that can open or close emphasis (not one between letters, as in `rule_hint`). These pair up across
 * words (`*two words*`, `` `rm -rf /` ``, `<a href=x>`), so a text that holds one is shown whole, as one code span.
 */
const MARKUP: readonly RegExp[] = [/[`*[\]<\\~]/, /&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);/i, /(?:^|[^\p{L}\p{N}])_|_(?:$|[^\p{L}\p{N}])/u];

/**
 * A link: a URL scheme, `www.`, an `@` (e-mail, mention), `//`, or a bare domain, which linkify-style
 * renderers and chat clients link. A link is one word: only that word becomes a code span.
 */
const LINK = /[a-z][a-z0-9+.-]*:\/\/|\b(?:mailto|xmpp):|www\.|@|\/\/|[\p{L}\p{N}-]\.\p{L}{2,}/iu;

const isMarkup = (word: string): boolean => MARKUP.some((pattern) => pattern.test(word));

/** Anything else is literal text wherever it stands in a paragraph or a table cell (`|` aside, see escapePipes). */
export const couldBeMarkup = (word: string): boolean => isMarkup(word) || LINK.test(word);

/**
 * Punctuation around a word that is text, not part of a URL or markup: left outside the code span
 * when the rest still needs one. Parentheses are left alone in a word that holds both (`f(x)`, a link).
 */
const peel = (word: string): { readonly lead: string; readonly core: string; readonly trail: string } => {
  const balanced = word.includes('(') && word.includes(')');
  const lead = (balanced ? /^["']+/ : /^[("']+/).exec(word)?.[0] ?? '';
  const trail = (balanced ? /["'.,;:!?]+$/ : /[)"'.,;:!?]+$/).exec(word.slice(lead.length))?.[0] ?? '';
  const core = word.slice(lead.length, word.length - trail.length);
  return core !== '' && couldBeMarkup(core) ? { lead, core, trail } : { lead: '', core: word, trail: '' };
};

/**
 * Free text as it reads. A text with markup characters is one code span, verbatim. Otherwise words are
 * kept as sent, and each run of words that are links becomes one code span (punctuation around the run
 * stays outside it). Leading and trailing whitespace is dropped (a paragraph or a cell drops it anyway).
 * An empty text is written `(empty)`.
 */
export const freeText = (value: string, place: Place): string => {
  const trimmed = value.trim();
  if (trimmed === '') return '(empty)';
  if (isMarkup(trimmed)) return codeSpan(trimmed, place);
  const tokens = trimmed.split(/(\s+)/);
  let out = '';
  let run: { text: string; trail: string } | undefined;
  let space = '';
  for (const [index, token] of tokens.entries()) {
    if (index % 2 === 1) {
      space = token;
    } else if (couldBeMarkup(token)) {
      const { lead, core, trail } = peel(token);
      if (run === undefined) {
        out += `${space}${lead}`;
        run = { text: core, trail };
      } else {
        run = { text: `${run.text}${run.trail}${space}${lead}${core}`, trail };
      }
    } else {
      if (run !== undefined) out += `${codeSpan(run.text, place)}${run.trail}`;
      run = undefined;
      out += `${space}${escapePipes(token, place)}`;
    }
  }
  if (run !== undefined) out += `${codeSpan(run.text, place)}${run.trail}`;
  return out;
};
