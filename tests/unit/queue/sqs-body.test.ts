import { toSqsBody } from '../../../lib/queue/messages';

/** SQS's character rule, as documented for SendMessage. */
const SQS_ALLOWED = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

describe('toSqsBody', () => {
  it.each<[string, unknown]>([
    ['U+FFFE and U+FFFF, which SQS refuses', { title: 'a\uFFFEb\uFFFF' }],
    ['characters beyond U+FFFF (refused by the local emulator)', { title: 'fire \u{1F525} \u{10FFFF}' }],
    ['lone surrogates', { title: '\uD800 \uDFFF' }],
    ['control characters', { title: '\u0000\u0001\u001F\u007F' }],
    ['in keys too', { 'k\uFFFF\u{1F525}': 1 }],
  ])('%s: the body is within SQS character set and means the same JSON', (_name, value) => {
    const body = toSqsBody(value);
    expect(body).toMatch(SQS_ALLOWED);
    expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('leaves ordinary text (accents, CJK, quotes) as JSON.stringify writes it', () => {
    const value = { title: 'Été 東京 "quoted" \\ back' };
    expect(toSqsBody(value)).toBe(JSON.stringify(value));
  });
});
