import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutRef, compareHeadlines, renderComparison } from './against';
import { PROJECT_ROOT } from './bundles';
import { BENCH, PRICES, TARGETS } from './config';
import { coldStart } from './figures/cold-start';
import { cost } from './figures/cost';
import { deliveryParallelism } from './figures/delivery-parallelism';
import { endToEnd } from './figures/end-to-end';
import type { Figure, Measured } from './figures/figure';
import { ingestOverhead } from './figures/ingest-overhead';
import { memory } from './figures/memory';
import { requestsPerAlert } from './figures/requests-per-alert';
import { sqsRequests } from './figures/sqs-requests';
import type { Harness } from './harness';
import { say, sideOf, startHarness } from './harness';
import type { RunName, Runs } from './measurements';
import { measure, measureRun, RUN_ORDER } from './measurements';

/**
 * `npm run bench`: every figure, printed as tables and written to bench/results/latest.json.
 * `npm run bench -- --only cold-start,memory`: those figures alone (and the runs they are computed
 * from), written to bench/results/only-<names>.json so that latest.json always holds a whole run.
 */
export const FIGURES: readonly Figure[] = [
  sqsRequests,
  ingestOverhead,
  deliveryParallelism,
  requestsPerAlert,
  coldStart,
  memory,
  endToEnd,
  cost,
];

/** A wrong command line: printed as is, without a stack. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const USAGE =
  'usage: npm run bench [-- [--only <figure>[,<figure>...]] [--against <git ref> [--passes <n>]]]\n' +
  `figures: ${FIGURES.map((f) => `${f.number} ${f.name}`).join(', ')}\n` +
  '--against builds the ref in a temporary worktree and measures both in this run, taking turns; ' +
  'it prints each figure as today ÷ ref (passes: 2 by default, the order alternating)';

export interface BenchOptions {
  readonly figures: readonly Figure[];
  readonly against?: string;
  readonly passes: number;
}

/** `--name value` or `--name=value`, for each option the bench takes. */
const optionValues = (argv: readonly string[]): Map<string, string> => {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name = '', inline] = arg.split(/=(.*)/s, 2);
    if (!['--only', '--against', '--passes'].includes(name) || values.has(name)) throw new UsageError(USAGE);
    const value = inline ?? argv[++i];
    if (value === undefined || value.trim() === '') throw new UsageError(USAGE);
    values.set(name, value.trim());
  }
  return values;
};

export const parseBenchOptions = (argv: readonly string[]): BenchOptions => {
  const values = optionValues(argv);
  const only = values.get('--only');
  let figures: readonly Figure[] = FIGURES;
  if (only !== undefined) {
    const wanted = only.split(',').map((name) => name.trim());
    const unknown = wanted.filter((name) => !FIGURES.some((f) => f.name === name || String(f.number) === name));
    if (unknown.length > 0) throw new UsageError(`unknown figure ${unknown.join(', ')}\n${USAGE}`);
    figures = FIGURES.filter((f) => wanted.includes(f.name) || wanted.includes(String(f.number)));
  }
  const passes = Number(values.get('--passes') ?? '2');
  if (!Number.isSafeInteger(passes) || passes < 1 || passes > 10) throw new UsageError(`--passes: 1 to 10\n${USAGE}`);
  if (values.has('--passes') && !values.has('--against')) throw new UsageError(`--passes goes with --against\n${USAGE}`);
  const against = values.get('--against');
  return { figures, passes, ...(against === undefined ? {} : { against }) };
};

/** The figures `--only` names (by name or number), in report order; all of them without it. */
export const selectFigures = (argv: readonly string[]): readonly Figure[] => parseBenchOptions(argv).figures;

/** The runs the figures are computed from. */
export const runsFor = (figures: readonly Figure[]): Set<RunName> => new Set(figures.flatMap((f) => f.needs));

const header = (startedAt: Date, h: Harness): string[] => [
  `Threat Stack → Squadcast relay: npm run bench, ${startedAt.toISOString()}`,
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}; ` +
    'emulators fauxqs + dynalite on 127.0.0.1 behind counting proxies',
  `bundles from \`serverless package\` (${h.pkg.seconds.toFixed(1)} s); ` +
    'every ratio below is measured side by side in this run, medians over rounds',
];

/** The figures computed from one side's runs. */
const computeAll = (figures: readonly Figure[], measured: Measured) =>
  figures.map((figure) => ({ figure, result: figure.compute(measured) }));

const resultsFile = (name: string): string => {
  mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
  return join(PROJECT_ROOT, 'bench', 'results', name);
};

/** This project alone: every figure printed, and written as JSON. */
const benchHead = async (h: Harness, options: BenchOptions, startedAt: Date): Promise<string[]> => {
  const { figures } = options;
  const runs = await measure(h, runsFor(figures));
  const measured: Measured = { runs, fn: h.fn };
  const computed = computeAll(figures, measured);
  const text = [...header(startedAt, h)];
  for (const { figure, result } of computed) text.push('', ...figure.report(result, measured));
  const whole = figures.length === FIGURES.length;
  const path = resultsFile(whole ? 'latest.json' : `only-${figures.map((f) => f.name).join('+')}.json`);
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  writeFileSync(
    path,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        seconds,
        machine: machine(),
        settings: BENCH,
        targets: TARGETS,
        prices: PRICES,
        figures: Object.fromEntries(computed.map(({ figure, result }) => [figure.key, result])),
        raw: { ingest: runs.ingest, deliver: runs.deliver?.rounds, firstBatch: runs.deliver?.firstBatch, coldStart: runs.coldStart },
      },
      null,
      2,
    )}\n`,
  );
  return [...text, '', `took ${seconds.toFixed(0)} s; results as JSON: ${path}`];
};

/**
 * This project against a ref: each needed run on both sides in turn, pass after pass (the side that
 * goes first alternates), then every figure's headlines compared, today ÷ ref.
 */
const benchAgainst = async (h: Harness, options: BenchOptions & { against: string }, startedAt: Date): Promise<string[]> => {
  const ref = checkOutRef(options.against, h.work);
  try {
    const refSide = await sideOf(h, ref.root, ref.label);
    const needed = RUN_ORDER.filter((run) => runsFor(options.figures).has(run));
    const passes: { ref: Partial<Runs>; head: Partial<Runs> }[] = [];
    for (let pass = 0; pass < options.passes; pass++) {
      const runs = { ref: {} as Partial<Runs>, head: {} as Partial<Runs> };
      const order =
        pass % 2 === 0
          ? ([
              ['ref', refSide],
              ['head', h],
            ] as const)
          : ([
              ['head', h],
              ['ref', refSide],
            ] as const);
      for (const run of needed)
        for (const [side, harness] of order) {
          say(`pass ${pass + 1} of ${options.passes}: ${run} on ${harness.label}`);
          Object.assign(runs[side], { [run]: await measureRun(harness, run) });
        }
      passes.push(runs);
    }
    const headlinesOf = (side: 'ref' | 'head', figure: Figure) =>
      passes.map((runs) => figure.headlines(figure.compute({ runs: runs[side], fn: side === 'ref' ? refSide.fn : h.fn })));
    const rows = compareHeadlines(
      options.figures.map((figure) => ({ figure, ref: headlinesOf('ref', figure), head: headlinesOf('head', figure) })),
    );
    const lastHead: Measured = { runs: passes.at(-1)?.head ?? {}, fn: h.fn };
    const text = [...header(startedAt, h), `against ${ref.label}, ${options.passes} pass${options.passes === 1 ? '' : 'es'}`];
    for (const { figure, result } of computeAll(options.figures, lastHead)) text.push('', ...figure.report(result, lastHead));
    text.push('', ...renderComparison(ref.label, options.passes, rows));
    const path = resultsFile(`against-${ref.commit.slice(0, 12)}.json`);
    const seconds = (Date.now() - startedAt.getTime()) / 1000;
    writeFileSync(
      path,
      `${JSON.stringify({ startedAt: startedAt.toISOString(), seconds, machine: machine(), ref: ref.label, commit: ref.commit, passes, rows }, null, 2)}\n`,
    );
    return [...text, '', `took ${seconds.toFixed(0)} s; results as JSON: ${path}`];
  } finally {
    ref.remove();
  }
};

const machine = () => ({ node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown CPU' });

const main = async (): Promise<void> => {
  const argv = process.argv.slice(2).filter((arg) => arg !== '--');
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const options = parseBenchOptions(argv);
  const startedAt = new Date();
  const work = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const h = await startHarness(work, stops);
    const { against } = options;
    const text = against === undefined ? await benchHead(h, options, startedAt) : await benchAgainst(h, { ...options, against }, startedAt);
    process.stdout.write(`${text.join('\n')}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
};

if (require.main === module)
  main().catch((error: unknown) => {
    const message = error instanceof UsageError ? error.message : `bench failed: ${(error as Error)?.stack ?? String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exit(1);
  });
