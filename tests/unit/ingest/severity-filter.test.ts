import { parseSeverities } from '../../../lib/ingest/severity-filter';

describe('parseSeverities', () => {
  it.each<[string | undefined, number[] | string]>([
    [undefined, [1, 2, 3]],
    ['', [1, 2, 3]],
    [' , ', [1, 2, 3]],
    ['1', [1]],
    ['1,2', [1, 2]],
    ['high, MEDIUM ,low', [1, 2, 3]],
    ['3,3,low', [3]],
    ['1,4', 'entry 2 is not a severity (1, 2, 3, high, medium or low)'],
    ['critical', 'entry 1 is not a severity (1, 2, 3, high, medium or low)'],
  ])('%p', (text, expected) => {
    const parsed = parseSeverities(text);
    expect(parsed.kind === 'valid' ? [...parsed.value].sort() : parsed.problems[0]).toEqual(expected);
  });
});
