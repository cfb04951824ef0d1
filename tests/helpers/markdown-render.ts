/**
 * Reads an incident description the way a Markdown renderer does: markdown-it (CommonMark with GFM
 * tables and strikethrough), with raw HTML and linkify ON, the most permissive settings a renderer
 * could use. What comes out is the structure a responder sees: links, HTML, emphasis, the title
 * line, and the table as rows of cell text.
 */
import MarkdownIt from 'markdown-it';

export const markdown = new MarkdownIt({ html: true, linkify: true });

type Token = ReturnType<typeof markdown.parse>[number];

export interface RenderedDescription {
  readonly html: string;
  /** Elements a renderer makes that alert text must never produce. */
  readonly links: number;
  readonly htmlElements: number;
  readonly images: number;
  readonly strong: number;
  readonly emphasis: number;
  readonly strikethrough: number;
  readonly codeSpans: number;
  /** Text of each paragraph, as rendered (code spans by their content). */
  readonly paragraphs: readonly string[];
  /** The table, header row first, each cell's rendered text. */
  readonly rows: ReadonlyArray<readonly string[]>;
}

const textOf = (inline: Token | undefined): string =>
  (inline?.children ?? [])
    .map((child) => (child.type === 'text' || child.type === 'code_inline' ? child.content : child.type === 'softbreak' ? ' ' : ''))
    .join('');

export const renderDescription = (description: string): RenderedDescription => {
  const tokens = markdown.parse(description, {});
  const all = tokens.flatMap((token) => [token, ...(token.children ?? [])]);
  const count = (...types: string[]): number => all.filter((token) => types.includes(token.type)).length;
  const paragraphs: string[] = [];
  const rows: string[][] = [];
  let row: string[] | undefined;
  tokens.forEach((token, i) => {
    if (token.type === 'paragraph_open') paragraphs.push(textOf(tokens[i + 1]));
    if (token.type === 'tr_open') row = [];
    if ((token.type === 'th_open' || token.type === 'td_open') && row !== undefined) row.push(textOf(tokens[i + 1]));
    if (token.type === 'tr_close' && row !== undefined) rows.push(row);
  });
  return {
    html: markdown.render(description),
    links: count('link_open', 'autolink_open'),
    htmlElements: count('html_inline', 'html_block'),
    images: count('image'),
    strong: count('strong_open'),
    emphasis: count('em_open'),
    strikethrough: count('s_open'),
    codeSpans: count('code_inline'),
    paragraphs,
    rows,
  };
};

/**
 * Backslash escapes of the plain-text view: each `\` followed by ASCII punctuation, which a reader
 * of the unrendered text sees as is.
 */
export const backslashEscapes = (description: string): string[] => description.match(/\\[!-/:-@[-`{-~]/g) ?? [];
