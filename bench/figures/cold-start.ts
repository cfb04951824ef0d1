import type { ImportGroup } from '../cold-start';
import { BENCH, TARGETS } from '../config';
import { fixed, kib, renderTable } from '../report';
import { median, medianRatio } from '../stats';
import { defineFigure, figureHead, lower, need } from './figure';

type ColdStartFigureRow = {
  readonly name: string;
  readonly otherNode?:
    | { readonly version: string; readonly medianMs: number; readonly thisMedianMs: number; readonly ratio: number }
    | undefined;
};

/** The lines comparing the project's Node with BENCH_COMPARE_NODE, when it was measured. */
const nodeComparison = (cold: readonly ColdStartFigureRow[]): string[] => {
  const version = cold.find((r) => r.otherNode !== undefined)?.otherNode?.version;
  if (version === undefined) return [];
  return [
    `   the same bundles under ${version} (BENCH_COMPARE_NODE), taking turns with ${process.version} in each round:`,
    renderTable(
      ['function', `${process.version} p50 ms`, `${version} p50 ms`, `ratio ${process.version} / ${version}`],
      cold.map((r) => [r.name, fixed(r.otherNode?.thisMedianMs, 1), fixed(r.otherNode?.medianMs, 1), fixed(r.otherNode?.ratio)]),
    ),
  ];
};

/** How many parts of each import graph the report shows. */
const IMPORT_GRAPH_TOP = 8;

/** Each bundle's import graph by size: the largest packages and project folders, and their share of the bundle. */
const importGraphs = (cold: readonly { name: string; importGraph: readonly ImportGroup[] }[]): string[] =>
  cold.flatMap(({ name, importGraph }) => {
    const total = importGraph.reduce((sum, group) => sum + group.bytes, 0);
    const top = importGraph.slice(0, IMPORT_GRAPH_TOP);
    return [
      `   ${name}: import graph by size (${kib(total)} KiB of code in the bundle, from ${importGraph.length} packages and folders), largest:`,
      `     ${top.map((group) => `${group.module} ${kib(group.bytes)} KiB (${fixed((100 * group.bytes) / total, 0)} %)`).join(', ')}`,
    ];
  });

/** Figure 5: load + init of each packaged bundle in a fresh process, against bare bundles creating the same SDK clients. */
export const coldStart = defineFigure({
  ...figureHead(5, 'cold-start', ['coldStart']),
  compute: (measured) =>
    need(measured, 'coldStart').map((row) => {
      const [bareMs = [], allMs] = row.bareMs;
      return {
        name: row.name,
        clients: row.clients,
        zipBytes: row.zipBytes,
        bundleBytes: row.bundleBytes,
        bareBytes: row.bareBytes,
        runs: row.realMs.length,
        medianMs: median(row.realMs),
        bareMedianMs: median(bareMs),
        ratio: medianRatio(row.realMs, bareMs),
        target: TARGETS.coldStart,
        /** Against a bare bundle that also imports the clients the function needs after init (SSM). */
        withLaterClients:
          allMs === undefined ? undefined : { bundleBytes: row.allBytes, medianMs: median(allMs), ratio: medianRatio(row.realMs, allMs) },
        /** What the target is checked on: against the bare bundle with every client the function uses. */
        targetRatio: allMs === undefined ? medianRatio(row.realMs, bareMs) : medianRatio(row.realMs, allMs),
        importGraph: row.importGraph,
        /** This Node / another Node (BENCH_COMPARE_NODE) for the same bundle: below 1 means this one starts faster. */
        otherNode:
          row.otherNode === undefined
            ? undefined
            : {
                version: row.otherNode.version,
                medianMs: median(row.otherNode.otherMs),
                thisMedianMs: median(row.otherNode.thisMs),
                ratio: medianRatio(row.otherNode.thisMs, row.otherNode.otherMs),
              },
      };
    }),
  report: (cold) => [
    `5. Cold start: load + init of each packaged bundle in a fresh node process, ${BENCH.coldStartRuns} runs each, ` +
      'against bare bundles (same esbuild options)',
    '   bare = creates the SDK clients the function creates at init; ' +
      'bare+later = also imports those it needs on first invoke (SSM, for its secret)',
    renderTable(
      [
        'function',
        'zip KiB',
        'bundle KiB',
        'load+init p50 ms',
        'bare clients',
        'bare KiB',
        'bare p50 ms',
        'ratio',
        'bare+later KiB',
        'bare+later p50 ms',
        'ratio',
        `target ≤ ${TARGETS.coldStart}`,
      ],
      cold.map((r) => [
        r.name,
        kib(r.zipBytes),
        kib(r.bundleBytes),
        fixed(r.medianMs, 1),
        r.clients.atInit.join('+'),
        kib(r.bareBytes),
        fixed(r.bareMedianMs, 1),
        fixed(r.ratio),
        r.withLaterClients?.bundleBytes === undefined ? '—' : kib(r.withLaterClients.bundleBytes),
        fixed(r.withLaterClients?.medianMs, 1),
        fixed(r.withLaterClients?.ratio),
        r.targetRatio <= r.target ? 'met' : 'MISSED',
      ]),
    ),
    ...nodeComparison(cold),
    ...importGraphs(cold),
  ],
  headlines: (cold) =>
    cold.flatMap((r) => [
      lower(`${r.name}: load+init p50 ms`, r.medianMs, 1),
      lower(`${r.name}: load+init ÷ bare with the same clients`, r.targetRatio),
      lower(`${r.name}: zip KiB`, r.zipBytes / 1024, 1),
    ]),
});
