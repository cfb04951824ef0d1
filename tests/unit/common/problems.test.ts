import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';
import { describeProblems } from '../../../lib/common/problems';
import { SENTINEL } from '../../helpers/factories';

const problemsOf = (codec: t.Decoder<unknown, unknown>, input: unknown, prefix?: string): string[] => {
  const result = codec.decode(input);
  if (!isLeft(result)) throw new Error('expected the input to be invalid');
  return describeProblems(result.left, prefix);
};

const Nested = t.type({ outer: t.type({ list: t.array(t.type({ n: t.number })) }) });
const Merged = t.intersection([
  t.type({ a: t.string }),
  t.partial({ b: t.intersection([t.type({ c: t.number }), t.partial({ d: t.string })]) }),
]);

describe('describeProblems', () => {
  it.each<[string, t.Decoder<unknown, unknown>, unknown, string[]]>([
    ['a field', t.type({ a: t.string }), { a: SENTINEL.length }, ['a: expected string']],
    ['the root of a non-object', t.type({ a: t.string }), SENTINEL, ['(root): expected object']],
    ['nested objects and array indices', Nested, { outer: { list: [{ n: 1 }, { n: SENTINEL }] } }, ['outer.list[1].n: expected number']],
    [
      'intersection member indices are not fields',
      Merged,
      { a: 1, b: { c: SENTINEL, d: 2 } },
      ['a: expected string', 'b.c: expected number', 'b.d: expected string'],
    ],
    ['an intersection at the root of a non-object', Merged, null, ['(root): expected object']],
  ])('%s', (_name, codec, input, expected) => {
    const problems = problemsOf(codec, input);
    expect(problems).toEqual(expected);
    expect(problems.join('\n')).not.toContain(SENTINEL);
  });

  it('prefixes every path, and a root problem becomes the prefix itself', () => {
    expect(problemsOf(t.type({ a: t.string }), { a: 1 }, 'alerts[3]')).toEqual(['alerts[3].a: expected string']);
    expect(problemsOf(t.type({ a: t.string }), 'x', 'alerts[3]')).toEqual(['alerts[3]: expected object']);
    expect(problemsOf(t.type({ a: t.string }), { a: 1 }, '[0]')).toEqual(['[0].a: expected string']);
  });

  it('lists a repeated problem once', () => {
    // A non-object fails both members of the intersection with the same path.
    expect(problemsOf(Merged, 'x')).toEqual(['(root): expected object']);
  });

  it('never quotes the value, even when it is a key-like string or a number', () => {
    const problems = problemsOf(t.type({ [SENTINEL.slice(0, 3)]: t.literal('x') }), { [SENTINEL.slice(0, 3)]: SENTINEL });
    expect(problems).toEqual(['SEN: expected "x"']);
    expect(problems.join('')).not.toContain(SENTINEL);
  });
});
