import { compareHeadlines, renderComparison, sameDependencies } from '../../bench/against';
import { importGroupOf } from '../../bench/cold-start';
import { higher, lower } from '../../bench/figures/figure';
import { FIGURES } from '../../bench/run';

const figure = FIGURES[2] as (typeof FIGURES)[number];

describe('today ÷ ref', () => {
  const rows = compareHeadlines([
    {
      figure,
      ref: [
        [lower('ms', 100), higher('alerts/s', 200), lower('same', 10)],
        [lower('ms', 120), higher('alerts/s', 220), lower('same', 10)],
      ],
      head: [
        [lower('ms', 130), higher('alerts/s', 180), lower('same', 10.5)],
        [lower('ms', 140), higher('alerts/s', 170), lower('same', 10.5)],
      ],
    },
  ]);

  it('compares the medians over the passes, and marks more than 10 % worse whichever way is better', () => {
    expect(rows.map(({ label, ref, head, ratio, worse, better }) => ({ label, ref, head, ratio, worse, better }))).toEqual([
      { label: 'ms', ref: 110, head: 135, ratio: 135 / 110, worse: true, better: false },
      { label: 'alerts/s', ref: 210, head: 175, ratio: 175 / 210, worse: true, better: false },
      { label: 'same', ref: 10, head: 10.5, ratio: 1.05, worse: false, better: false },
    ]);
  });

  it('marks more than 10 % better too', () => {
    const [row] = compareHeadlines([{ figure, ref: [[lower('ms', 100)]], head: [[lower('ms', 50)]] }]);
    expect(row).toMatchObject({ worse: false, better: true, ratio: 0.5 });
  });

  it('leaves the ratio out when one side has no value (a figure the ref did not have)', () => {
    const [row] = compareHeadlines([{ figure, ref: [[]], head: [[lower('new', 3)]] }]);
    expect(row).toMatchObject({ ref: undefined, head: 3, ratio: undefined, worse: false });
  });

  it('prints one row a number, WORSE where it is', () => {
    const text = renderComparison('15c0098', 2, rows).join('\n');
    expect(text).toMatch(/^today ÷ 15c0098: medians over 2 passes/);
    expect(text).toMatch(/3 delivery-parallelism\s+ms\s+110\.00\s+135\.00\s+1\.23\s+WORSE/);
    expect(text).toMatch(/same\s+10\.00\s+10\.50\s+1\.05\s*$/m);
  });
});

describe('a ref on this project’s node_modules', () => {
  const ours = { dependencies: { 'io-ts': '2.2.22' }, devDependencies: { jest: '30.0.0', yaml: '2.9.1' } };

  it('when every dependency it pins is pinned here at the same version', () => {
    expect(sameDependencies({ dependencies: { 'io-ts': '2.2.22' }, devDependencies: { jest: '30.0.0' } }, ours)).toBe(true);
  });

  it.each([
    ['another version', { dependencies: { 'io-ts': '2.2.21' } }],
    ['a package this project does not have', { devDependencies: { mocha: '10.0.0' } }],
  ])('not with %s', (_what, ref) => {
    expect(sameDependencies(ref, ours)).toBe(false);
  });
});

describe('import graph groups', () => {
  it.each([
    ['node_modules/@aws-sdk/client-sqs/dist-cjs/index.js', '@aws-sdk/client-sqs'],
    ['node_modules/@smithy/core/node_modules/uuid/x.js', 'uuid'],
    ['node_modules/fp-ts/Either.js', 'fp-ts'],
    ['lib/delivery/deliver-batch.ts', 'lib/delivery'],
    ['handlers/ingest.ts', 'handlers/ingest.ts'],
  ])('%s belongs to %s', (path, group) => {
    expect(importGroupOf(path)).toBe(group);
  });
});
