import fc from 'fast-check';
import { parseJson, TooManyEscapedKeys } from '../../../lib/common/json';

/** The code points of each key, so that a wrong key shows which character it holds. */
const keyCodes = (value: unknown): number[][] =>
  Object.keys(value as object).map((key) => [...key].map((char) => char.codePointAt(0) as number));

describe('parseJson', () => {
  // V8 (Node 24, 26) misreads an escaped key after a key of the same shape was parsed once (nodejs/node#63785).
  it.each([
    ['a key made of two characters, the second escaped', '{"k\\\\":1}', '{"k\\uffff":2}', { 'k\uffff': 2 }],
    ['a key after a known first key', '{"h":[],"\\\\":0}', '{"h":1,"\\"":2}', { h: 1, '"': 2 }],
    ['a control character', '{"q\\\\":1}', '{"q\\n":2}', { 'q\n': 2 }],
  ])('reads %s as written, whatever was parsed before', (_what, before, text, expected) => {
    parseJson(before);
    JSON.parse(before);
    const value = parseJson(text);
    expect(value).toEqual(expected);
    expect(keyCodes(value)).toEqual(keyCodes(expected));
  });

  it('keeps what JSON.parse does: key order, a later duplicate wins in the first place, __proto__ an own property, nested objects', () => {
    const text = '{"b\\n":1,"2":2,"\\u0031":3,"b\\u000a":4,"\\u005f_proto__":{"x\\ty":[{"z\\\\":5}]},"plain":"a\\\\b"}';
    const value = parseJson(text) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['1', '2', 'b\n', '__proto__', 'plain']);
    expect(value['b\n']).toBe(4);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(value).toEqual(JSON.parse(JSON.stringify(value)));
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')).toMatchObject({ value: { 'x\ty': [{ 'z\\': 5 }] }, enumerable: true });
    expect(value.plain).toBe('a\\b');
  });

  it('takes at most maxEscapedKeys keys written with an escape, counting keys only, and refuses more before reading any', () => {
    const keys = (n: number): string => `{${Array.from({ length: n }, (_, i) => `"k\\u00e9${i}":"v\\n"`).join(',')}}`;
    expect(Object.keys(parseJson(keys(3), 3) as object)).toEqual(['ké0', 'ké1', 'ké2']);
    expect(() => parseJson(keys(4), 3)).toThrow(TooManyEscapedKeys);
    expect(() => parseJson(keys(4), 3)).toThrow('more than 3 object keys written with escapes');
    // Escaped values are not keys; the limit does not see them.
    expect(parseJson(`[${Array.from({ length: 10 }, () => '"a\\nb"').join(',')}]`, 3)).toHaveLength(10);
    expect(parseJson(keys(4))).toEqual(JSON.parse(keys(4)));
  });

  it('a string value that looks like a key is left alone', () => {
    expect(parseJson('{"a":"x\\": 1","b\\"":["c\\":"]}')).toEqual({ a: 'x": 1', 'b"': ['c":'] });
  });

  it('an array as deep as JSON.parse reads is walked without recursion', () => {
    const depth = 5_000;
    const text = `${'['.repeat(depth)}{"d\\n":1}${']'.repeat(depth)}`;
    let value = parseJson(text);
    for (let i = 0; i < depth; i++) value = (value as unknown[])[0];
    expect(value).toEqual({ 'd\n': 1 });
  });

  it.each([
    ['an unterminated key', '{"a\\n:1}'],
    ['a raw control character in an escaped key', '{"a\\n\u0001":1}'],
    ['a bad escape in a key', '{"a\\x":1}'],
    ['a stray backslash outside strings', '{\\"a\\n":1}'],
    ['a missing comma', '{"a\\n":1 "b":2}'],
  ])('not JSON (%s): the error is JSON.parse’s own, on the text as sent', (_what, text) => {
    let native: unknown;
    try {
      JSON.parse(text);
    } catch (error) {
      native = error;
    }
    expect(native).toBeInstanceOf(SyntaxError);
    expect(() => parseJson(text)).toThrow(new SyntaxError((native as Error).message));
  });

  it('any JSON value, once written and read back, is what was written (keys with any character included)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.string({ unit: 'binary', maxLength: 3 }), { maxLength: 4 }), (value, keys) => {
        // Keys of the same shape as the ones under test, parsed first: the poison V8 needs.
        for (const key of keys) parseJson(JSON.stringify({ [key]: 0, [`${key}\\`]: 1 }));
        const withKeys = Object.fromEntries(keys.map((key, i) => [key, i]));
        const text = JSON.stringify({ value, withKeys });
        expect(parseJson(text)).toEqual(JSON.parse(JSON.stringify({ value, withKeys })));
        expect(keyCodes((parseJson(text) as { withKeys: object }).withKeys)).toEqual(keyCodes(withKeys));
      }),
      { numRuns: 300 },
    );
  });
});
