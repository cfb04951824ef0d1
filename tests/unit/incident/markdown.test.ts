import { codeSpan, couldBeMarkup, freeText } from '../../../lib/incident/markdown';

describe('codeSpan', () => {
  it.each<[string, string, 'table-cell' | 'paragraph', string]>([
    ['a plain value', 'ip-172-31-26-113', 'table-cell', '`ip-172-31-26-113`'],
    ['a backtick inside', 'a`b', 'table-cell', '``a`b``'],
    ['a run of three backticks', 'a```b', 'table-cell', '````a```b````'],
    ['a backtick at an edge (padded)', '`a', 'table-cell', '`` `a ``'],
    ['spaces at both edges (padded, CommonMark strips one each side)', ' a ', 'table-cell', '`  a  `'],
    ['a pipe in a table cell', 'a|b', 'table-cell', '`a\\|b`'],
    ['a pipe in a paragraph', 'a|b', 'paragraph', '`a|b`'],
    ['an empty value', '', 'table-cell', '(empty)'],
  ])('%s', (_name, value, place, expected) => {
    expect(codeSpan(value, place)).toBe(expected);
  });
});

describe('couldBeMarkup', () => {
  it.each([
    '*a',
    '`x`',
    '[x]',
    '<b>',
    'a\\b',
    '~~s',
    '&amp;',
    '&#65;',
    '_lead',
    'trail_',
    'http://x',
    'www.x',
    'a@b',
    '//x',
    'evil.com',
    'file.py',
  ])('%p could be markup or a link', (word) => expect(couldBeMarkup(word)).toBe(true));
  it.each(['Host:', 'rule_hint', '(root)', '0.0.0.0/0', 'AT&T', 'a|b', '#1', '-rf', '1.5', 'e.g.', 'sudo!', '"quoted"', '>', '+', '='])(
    '%p is literal text',
    (word) => expect(couldBeMarkup(word)).toBe(false),
  );
});

describe('freeText', () => {
  it.each<[string, string, 'table-cell' | 'paragraph', string]>([
    ['plain words, spacing kept inside', '  Host:  sudo to root ', 'paragraph', 'Host:  sudo to root'],
    ['one link word', 'see http://x.example/p now', 'paragraph', 'see `http://x.example/p` now'],
    ['punctuation around a link stays outside', '(see www.x.example).', 'paragraph', '(see `www.x.example`).'],
    ['markup anywhere: the whole text, verbatim', 'a *b c* d', 'paragraph', '`a *b c* d`'],
    ['a pipe in a table cell', 'a | b', 'table-cell', 'a \\| b'],
    ['empty', '   ', 'table-cell', '(empty)'],
  ])('%s', (_name, value, place, expected) => {
    expect(freeText(value, place)).toBe(expected);
  });
});
