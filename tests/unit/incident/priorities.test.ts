import { parsePriorities } from '../../../lib/incident/priorities';

describe('parsePriorities', () => {
  it.each<[string | undefined, unknown]>([
    [undefined, { 1: 'P1', 2: 'P2', 3: 'P3' }],
    ['', { 1: 'P1', 2: 'P2', 3: 'P3' }],
    ['1=P1,2=P3,3=P5', { 1: 'P1', 2: 'P3', 3: 'P5' }],
    [' high = p2 ', { 1: 'P2', 2: 'P2', 3: 'P3' }],
    ['low=P4', { 1: 'P1', 2: 'P2', 3: 'P4' }],
    ['1=P6', 'entry 1 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)'],
    ['4=P1', 'entry 1 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)'],
    ['1=P1,2', 'entry 2 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)'],
    ['1=P1=P2', 'entry 1 must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)'],
  ])('%p', (text, expected) => {
    const parsed = parsePriorities(text);
    expect(parsed.kind === 'valid' ? parsed.value : parsed.problems[0]).toEqual(expected);
  });

  it('does not change the defaults it starts from', () => {
    parsePriorities('1=P5');
    expect(parsePriorities(undefined)).toEqual({ kind: 'valid', value: { 1: 'P1', 2: 'P2', 3: 'P3' } });
  });
});
