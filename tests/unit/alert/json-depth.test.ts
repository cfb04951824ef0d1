import { cutToDepth, isNestedDeeperThan } from '../../../lib/alert/json-depth';

const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}1${']'.repeat(depth)}`);

describe('isNestedDeeperThan', () => {
  it.each<[string, unknown, number, boolean]>([
    ['a scalar', 'x', 0, false],
    ['a flat object at limit 1', { a: 1 }, 1, false],
    ['a flat object at limit 0', { a: 1 }, 0, true],
    ['3 levels at limit 3', nested(3), 3, false],
    ['4 levels at limit 3', nested(4), 3, true],
    ['deep inside a wide object', { a: 1, b: [1, { c: nested(40) }] }, 32, true],
  ])('%s', (_name, value, limit, deeper) => {
    expect(isNestedDeeperThan(value, limit)).toBe(deeper);
  });

  it('answers for 1 000 000 levels without overflowing the stack', () => {
    expect(isNestedDeeperThan(nested(1_000_000), 32)).toBe(true);
  });
});

describe('cutToDepth', () => {
  it('keeps the first levels and marks what was cut, so that the result can be serialized', () => {
    const cut = cutToDepth({ id: 'x', deep: nested(100_000) }, 3);
    expect(cut).toEqual({ id: 'x', deep: [['…(nested too deep)']] });
    expect(() => JSON.stringify(cutToDepth(nested(100_000), 32))).not.toThrow();
  });
});
