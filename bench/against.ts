import { spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './bundles';
import type { Figure, Headline } from './figures/figure';
import { say } from './harness';
import { fixed, renderTable } from './report';
import { median } from './stats';

/**
 * `npm run bench -- --against <git ref>`: the ref built in a temporary worktree and measured in the
 * same run as this project, run by run, taking turns (the order alternates each pass), so that
 * each figure is a ratio of two measurements made minutes apart on the same machine.
 */

/** A change for the worse beyond this share is marked. */
export const WORSE_BEYOND = 0.1;

export interface RefTree {
  readonly label: string;
  readonly commit: string;
  readonly root: string;
  remove(): void;
}

const git = (args: readonly string[], cwd: string = PROJECT_ROOT): string => {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
};

/** Every dependency the ref pins, at the version this project pins it: then the ref can use this project's node_modules. */
export const sameDependencies = (ref: PackageJson, ours: PackageJson): boolean =>
  Object.entries({ ...ref.dependencies, ...ref.devDependencies }).every(
    ([name, version]) => ({ ...ours.dependencies, ...ours.devDependencies })[name] === version,
  );

export interface PackageJson {
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

const readPackageJson = (root: string): PackageJson => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;

/**
 * The ref checked out in a worktree under `work`. Its dependencies: this project's node_modules
 * when the ref pins nothing else, else its own `npm ci` (which needs the npm registry).
 */
export const checkOutRef = (ref: string, work: string): RefTree => {
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const label = commit.startsWith(ref) ? commit.slice(0, 7) : `${ref} (${commit.slice(0, 7)})`;
  const root = join(work, `ref-${commit.slice(0, 12)}`);
  say(`checking out ${label} in ${root}`);
  git(['worktree', 'add', '--detach', root, commit]);
  const remove = (): void => {
    spawnSync('git', ['worktree', 'remove', '--force', root], { cwd: PROJECT_ROOT });
    spawnSync('git', ['worktree', 'prune'], { cwd: PROJECT_ROOT });
  };
  try {
    if (sameDependencies(readPackageJson(root), readPackageJson(PROJECT_ROOT))) {
      symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    } else {
      say(`${label} pins other dependencies: npm ci in its worktree`);
      const installed = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, encoding: 'utf8' });
      if (installed.status !== 0) throw new Error(`npm ci for ${label} failed:\n${installed.stderr}`);
    }
  } catch (error) {
    remove();
    throw error;
  }
  return { label, commit, root, remove };
};

/** One figure's headlines on each side, each a list over the passes. */
export interface SideHeadlines {
  readonly figure: Figure;
  readonly ref: readonly Headline[][];
  readonly head: readonly Headline[][];
}

export interface ComparisonRow {
  readonly figure: string;
  readonly label: string;
  readonly ref: number | undefined;
  readonly head: number | undefined;
  /** today ÷ the ref. */
  readonly ratio: number | undefined;
  readonly worse: boolean;
  readonly better: boolean;
  readonly digits: number;
}

const medianOf = (passes: readonly Headline[][], label: string): number | undefined => {
  const values = passes.flatMap((headlines) =>
    headlines.filter((h) => h.label === label && h.value !== undefined && Number.isFinite(h.value)).map((h) => h.value as number),
  );
  return values.length === 0 ? undefined : median(values);
};

/** Each headline's median over the passes on both sides, and today ÷ the ref, marked when more than 10 % worse (or better). */
export const compareHeadlines = (sides: readonly SideHeadlines[]): ComparisonRow[] =>
  sides.flatMap(({ figure, ref, head }) => {
    const labels = [...new Set([...head, ...ref].flatMap((headlines) => headlines.map((h) => h.label)))];
    return labels.map((label) => {
      const shape = [...head, ...ref].flat().find((h) => h.label === label) as Headline;
      const refValue = medianOf(ref, label);
      const headValue = medianOf(head, label);
      const ratio = refValue === undefined || headValue === undefined || refValue === 0 ? undefined : headValue / refValue;
      const worse = ratio !== undefined && (shape.better === 'lower' ? ratio > 1 + WORSE_BEYOND : ratio < 1 / (1 + WORSE_BEYOND));
      const better = ratio !== undefined && (shape.better === 'lower' ? ratio < 1 / (1 + WORSE_BEYOND) : ratio > 1 + WORSE_BEYOND);
      return {
        figure: `${figure.number} ${figure.name}`,
        label,
        ref: refValue,
        head: headValue,
        ratio,
        worse,
        better,
        digits: shape.digits ?? 2,
      };
    });
  });

export const renderComparison = (refLabel: string, passes: number, rows: readonly ComparisonRow[]): string[] => [
  `today ÷ ${refLabel}: medians over ${passes} pass${passes === 1 ? '' : 'es'} on each side, taking turns run by run; ` +
    `more than ${WORSE_BEYOND * 100} % worse is marked WORSE`,
  renderTable(
    ['figure', 'what', refLabel, 'today', 'today ÷ ref', ''],
    rows.map((row) => [
      row.figure,
      row.label,
      fixed(row.ref, row.digits),
      fixed(row.head, row.digits),
      fixed(row.ratio),
      row.worse ? 'WORSE' : row.better ? 'better' : '',
    ]),
  ),
];
