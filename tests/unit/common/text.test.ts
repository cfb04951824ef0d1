import fc from 'fast-check';
import { escapedId, hasLoneSurrogate, jsonStringBytes, plainText, truncate } from '../../../lib/common/text';

describe('truncate', () => {
  it.each<[string, number, string]>([
    ['short', 10, 'short'],
    ['exactly', 7, 'exactly'],
    ['too long', 4, 'too…'],
    ['😀😀😀😀', 3, '😀😀…'],
    ['', 3, ''],
  ])('%p to %p characters: %p', (text, max, expected) => {
    expect(truncate(text, max)).toBe(expected);
  });

  it('never splits a surrogate pair', () => {
    const cut = truncate('😀'.repeat(10), 5);
    expect(cut).toBe(`${'😀'.repeat(4)}…`);
    expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
  });
});

describe('plainText', () => {
  it.each<[string, string, string]>([
    ['LF, CRLF, a lone CR, NEL, LS, PS and tabs become spaces', 'a\nb\r\nc\rd\u0085e\u2028f\u2029g\th', 'a b c d e f g h'],
    ['C0, DEL and C1 controls are removed', 'a\u0000b\u0007c\u001bd\u007fe\u0090f', 'abcdef'],
    ['bidirectional overrides are removed', 'user\u202eexe.txt\u202c\u2066x\u2069', 'userexe.txtx'],
    ['a lone surrogate becomes U+FFFD', 'a\ud800b\udc00c', 'a\ufffdb\ufffdc'],
    ['everything else is kept as sent', '  Host:  sudo <b>&amp; 😀 € "q" \\ ', '  Host:  sudo <b>&amp; 😀 € "q" \\ '],
  ])('%s', (_name, input, expected) => {
    expect(plainText(input)).toBe(expected);
  });
});

describe('jsonStringBytes', () => {
  it.each<[string, number]>([
    ['abc', 3],
    ['€', 3],
    ['"', 2],
    ['\\', 2],
    ['\u0001', 6],
  ])('%p takes %p bytes in a JSON string', (text, bytes) => {
    expect(jsonStringBytes(text)).toBe(bytes);
  });
});

describe('escapedId', () => {
  it('writes what a terminal cannot show as an escape, so that ids differing only there stay apart', () => {
    expect(escapedId('v-\ud801')).toBe('v-\\ud801');
    expect(escapedId('v-\udc02')).toBe('v-\\udc02');
    expect(escapedId('a\u0007b\u202e')).toBe('a\\u0007b\\u202e');
    expect(escapedId('plain-id 😀 élan')).toBe('plain-id 😀 élan');
    // A backslash is doubled: the text "\\ud801" and the lone surrogate render apart.
    expect(escapedId('v-\\ud801')).toBe('v-\\\\ud801');
  });

  it('property: distinct ids render distinct, in well-formed text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        fc.pre(a !== b);
        expect(escapedId(a)).not.toBe(escapedId(b));
        expect(hasLoneSurrogate(escapedId(a))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('hasLoneSurrogate', () => {
  it.each<[string, boolean]>([
    ['v-\ud801', true],
    ['v-\udc02', true],
    ['😀', false],
    ['plain', false],
  ])('%j: %p', (text, lone) => {
    expect(hasLoneSurrogate(text)).toBe(lone);
    expect(hasLoneSurrogate(text)).toBe(lone);
  });
});
