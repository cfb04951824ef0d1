import type * as t from 'io-ts';
import { AlertBatchCodec, IntegerFromNumberOrString, SeverityCodec } from '../../../lib/alert/codec';
import { decodeWith } from '../../../lib/common/checked';

const decoded = <C extends t.Mixed>(codec: C, input: unknown): t.TypeOf<C> | 'invalid' => {
  const result = decodeWith(codec, input);
  return result.kind === 'valid' ? result.value : 'invalid';
};

describe('IntegerFromNumberOrString', () => {
  it.each<[string, unknown, number | 'invalid']>([
    ['an integer', 3, 3],
    ['zero', 0, 0],
    ['a negative integer', -7, -7],
    ['a numeric string', '3', 3],
    ['epoch millis as a string', '1459447024000', 1_459_447_024_000],
    ['a numeric string with spaces around it', ' 42 ', 42],
    ['a negative numeric string', '-5', -5],
    ['a float', 1.5, 'invalid'],
    ['a float string', '1.5', 'invalid'],
    ['an exponent string', '1e3', 'invalid'],
    ['a hex string', '0x10', 'invalid'],
    ['an empty string', '', 'invalid'],
    ['a word', 'high', 'invalid'],
    ['an unsafe integer', 2 ** 53, 'invalid'],
    ['an unsafe integer string', '9007199254740993', 'invalid'],
    ['NaN', Number.NaN, 'invalid'],
    ['Infinity', Number.POSITIVE_INFINITY, 'invalid'],
    ['null', null, 'invalid'],
    ['a boolean', true, 'invalid'],
    ['an array holding a number', [3], 'invalid'],
  ])('%s', (_name, input, expected) => {
    expect(decoded(IntegerFromNumberOrString, input)).toBe(expected);
  });

  it('is() accepts only safe integers, and encodes a number as itself', () => {
    expect(IntegerFromNumberOrString.is(3)).toBe(true);
    expect(IntegerFromNumberOrString.is('3')).toBe(false);
    expect(IntegerFromNumberOrString.is(1.5)).toBe(false);
    expect(IntegerFromNumberOrString.encode(12)).toBe(12);
  });
});

describe('SeverityCodec', () => {
  it.each<[unknown, number | 'invalid']>([
    [1, 1],
    [2, 2],
    [3, 3],
    ['1', 1],
    ['2', 2],
    ['3', 3],
    [0, 'invalid'],
    [4, 'invalid'],
    ['0', 'invalid'],
    ['4', 'invalid'],
    [-1, 'invalid'],
    ['high', 'invalid'],
    [1.5, 'invalid'],
    ['1.0', 'invalid'],
    [null, 'invalid'],
    [undefined, 'invalid'],
  ])('%p -> %p', (input, expected) => {
    expect(decoded(SeverityCodec, input)).toBe(expected);
  });

  it('is() accepts 1, 2 and 3 only', () => {
    expect([0, 1, 2, 3, 4, '1'].map((v) => SeverityCodec.is(v))).toEqual([false, true, true, true, false, false]);
  });
});

describe('AlertBatchCodec', () => {
  it('accepts any array under alerts, and nothing else', () => {
    expect(decoded(AlertBatchCodec, { alerts: [1, 'x'] })).toEqual({ alerts: [1, 'x'] });
    expect(decoded(AlertBatchCodec, { alerts: {} })).toBe('invalid');
    expect(decoded(AlertBatchCodec, { alerts: null })).toBe('invalid');
  });
});
