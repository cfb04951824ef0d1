import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './bundles';
import { BENCH, PRICES, TARGETS } from './config';
import { fetchCounts } from './counting-proxy';
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
import { startHarness } from './harness';
import type { RunName } from './measurements';
import { measure } from './measurements';

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

const USAGE = `usage: npm run bench [-- --only <figure>[,<figure>...]]\nfigures: ${FIGURES.map((f) => `${f.number} ${f.name}`).join(', ')}`;

/** The figures `--only` names (by name or number), in report order; all of them without it. */
export const selectFigures = (argv: readonly string[]): readonly Figure[] => {
  if (argv.length === 0) return FIGURES;
  const [first = '', second] = argv;
  const value =
    argv.length === 1 && first.startsWith('--only=')
      ? first.slice('--only='.length)
      : argv.length === 2 && first === '--only'
        ? second
        : undefined;
  if (value === undefined || value.trim() === '') throw new UsageError(USAGE);
  const wanted = value.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !FIGURES.some((f) => f.name === name || String(f.number) === name));
  if (unknown.length > 0) throw new UsageError(`unknown figure ${unknown.join(', ')}\n${USAGE}`);
  return FIGURES.filter((f) => wanted.includes(f.name) || wanted.includes(String(f.number)));
};

/** The runs the figures are computed from. */
export const runsFor = (figures: readonly Figure[]): Set<RunName> => new Set(figures.flatMap((f) => f.needs));

const header = (startedAt: Date, h: Harness): string[] => [
  `Threat Stack → Squadcast relay: npm run bench, ${startedAt.toISOString()}`,
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}; ` +
    'emulators fauxqs + dynalite on 127.0.0.1 behind counting proxies',
  `bundles from \`serverless package\` (${h.pkg.seconds.toFixed(1)} s); ` +
    'every ratio below is measured side by side in this run, medians over rounds',
];

const main = async (): Promise<void> => {
  const argv = process.argv.slice(2).filter((arg) => arg !== '--');
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const figures = selectFigures(argv);
  const whole = figures.length === FIGURES.length;
  const resultsPath = join(PROJECT_ROOT, 'bench', 'results', whole ? 'latest.json' : `only-${figures.map((f) => f.name).join('+')}.json`);
  const startedAt = new Date();
  const work = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const h = await startHarness(work, stops);
    const runs = await measure(h, runsFor(figures));
    const measured: Measured = { runs, fn: h.fn, dynamodbCounts: await fetchCounts(h.aws.dynamodbEndpoint) };
    const computed = figures.map((figure) => ({ figure, result: figure.compute(measured) }));

    const finishedAt = new Date();
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const text = [...header(startedAt, h)];
    for (const { figure, result } of computed) text.push('', ...figure.report(result, measured));
    const results = {
      startedAt: startedAt.toISOString(),
      seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      machine: { node: process.version, cpus: cpus().length, cpu },
      settings: BENCH,
      targets: TARGETS,
      prices: PRICES,
      figures: Object.fromEntries(computed.map(({ figure, result }) => [figure.key, result])),
      raw: {
        ingest: runs.ingest,
        deliver: runs.deliver?.rounds,
        firstBatch: runs.deliver?.firstBatch,
        coldStart: runs.coldStart,
      },
    };
    mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    text.push('', `took ${results.seconds.toFixed(0)} s; results as JSON: ${resultsPath}`);
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
