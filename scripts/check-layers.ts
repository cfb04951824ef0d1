import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseSync } from '@swc/core';

/**
 * `npm run check:layers`: the folder-level import graph of the code that ships or runs the
 * relay, and the house rules it must keep (README, "Project layout"). A folder is a top-level
 * folder, except `lib/`, whose every sub-folder is one. Only relative imports count (packages
 * are not folders of ours), type-only imports included: a type import is a dependency too.
 * Imports are read with swc's TypeScript parser (already the project's jest transform), since
 * TypeScript 7 has no JavaScript API and madge's TypeScript reader does not load against it.
 */

/** The folders whose imports are read; tests/ may import anything it tests. */
export const SOURCE_ROOTS = ['handlers', 'lib', 'local', 'scripts', 'bench'] as const;

/** One import: the file that imports, what it wrote, and the file or folder it names. */
export interface ImportEdge {
  readonly file: string;
  readonly specifier: string;
  readonly target: string;
}

/** A broken rule, with one import that breaks it (for a cycle: the folders, and one import per step). */
export interface Violation {
  readonly rule: string;
  readonly cycle?: readonly string[];
  readonly imports: readonly ImportEdge[];
}

export const NO_CYCLE = 'no folder-level cycle';

/** A path relative to the project root, with `/` separators. */
const posix = (path: string): string => path.split(sep).join('/');

/** The folder a project path belongs to: `lib/<name>` under lib/, else its top-level folder. */
export const folderOf = (path: string): string => {
  const [top = '', second, ...rest] = path.split('/');
  return top === 'lib' && second !== undefined && (rest.length > 0 || !/\.[cm]?[jt]sx?$/.test(second)) ? `lib/${second}` : top;
};

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;
const stringValue = (value: unknown): string | undefined =>
  isNode(value) && value.type === 'StringLiteral' && typeof value.value === 'string' ? value.value : undefined;

/** The module specifier a syntax node names, if it is an import of any kind. */
const specifierOf = (node: Node): string | undefined => {
  switch (node.type) {
    case 'ImportDeclaration':
    case 'ExportAllDeclaration':
    case 'ExportNamedDeclaration':
      return stringValue(node.source);
    case 'TsImportType':
      return stringValue(node.argument);
    case 'TsExternalModuleReference':
      return stringValue(node.expression);
    case 'CallExpression': {
      const callee = isNode(node.callee) ? node.callee : {};
      const first = Array.isArray(node.arguments) && isNode(node.arguments[0]) ? node.arguments[0].expression : undefined;
      const isImport = callee.type === 'Import' || (callee.type === 'Identifier' && callee.value === 'require');
      return isImport ? stringValue(first) : undefined;
    }
    default:
      return undefined;
  }
};

/**
 * Every module specifier a TypeScript source imports: `import` and `export ... from` (type-only
 * too), `import()`, `require()`, `import x = require()` and `typeof import()`. Comments and
 * strings that merely look like imports do not count.
 */
export const importsOf = (source: string): string[] => {
  const found: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isNode(value)) return;
    const specifier = specifierOf(value);
    if (specifier !== undefined) found.push(specifier);
    for (const [key, child] of Object.entries(value)) if (key !== 'span') visit(child);
  };
  visit(parseSync(source, { syntax: 'typescript' }).body);
  return found;
};

const listFolder = (root: string, folder: string): string[] => {
  const path = join(root, folder);
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
    const child = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'results' ? [] : listFolder(root, child);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [child] : [];
  });
};

/** The TypeScript sources of the source folders, as project paths. */
export const listSources = (root: string): string[] => SOURCE_ROOTS.flatMap((folder) => listFolder(root, folder));

/** The file a relative specifier names (as tsc and esbuild resolve it), else the path it spells. */
const resolveTarget = (root: string, file: string, specifier: string): string => {
  const spelled = resolve(root, dirname(file), specifier);
  const candidates = ['', '.ts', '.tsx', '.js', '.json', '/index.ts'].map((ending) => `${spelled}${ending}`);
  const found = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
  return posix(relative(root, found ?? spelled));
};

/** Every relative import of the source folders, read from the files under `root`. */
export const readImports = (root: string, files = listSources(root)): ImportEdge[] =>
  files.flatMap((file) =>
    importsOf(readFileSync(join(root, file), 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => ({ file, specifier, target: resolveTarget(root, file, specifier) })),
  );

/** Folder → the folders it imports, each with the imports that make the edge. Imports within a folder are left out. */
export type FolderGraph = ReadonlyMap<string, ReadonlyMap<string, readonly ImportEdge[]>>;

export const folderGraph = (imports: readonly ImportEdge[]): FolderGraph => {
  const graph = new Map<string, Map<string, ImportEdge[]>>();
  for (const edge of imports) {
    const from = folderOf(edge.file);
    const to = folderOf(edge.target);
    const targets = graph.get(from) ?? new Map<string, ImportEdge[]>();
    graph.set(from, targets);
    if (from !== to) targets.set(to, [...(targets.get(to) ?? []), edge]);
  }
  return graph;
};

const targetsOf = (graph: FolderGraph, folder: string): string[] => [...(graph.get(folder)?.keys() ?? [])].sort();

/** The shortest way from `start` back to itself, as the folders passed through (start first). */
const shortestCycle = (graph: FolderGraph, start: string): string[] | undefined => {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const folder = queue[i] as string;
    for (const next of targetsOf(graph, folder)) {
      if (next === start) {
        const path = [folder];
        for (let at = folder; at !== start; ) {
          at = previous.get(at) as string;
          path.unshift(at);
        }
        return path;
      }
      if (!previous.has(next)) {
        previous.set(next, folder);
        queue.push(next);
      }
    }
  }
  return undefined;
};

/** The folders `start` imports, directly or through others. */
const reachableFrom = (graph: FolderGraph, start: string): Set<string> => {
  const seen = new Set<string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++)
    for (const next of targetsOf(graph, queue[i] as string))
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
  return seen;
};

/** One cycle for each group of folders that import each other: the shortest through the group's first folder by name. */
export const findCycles = (graph: FolderGraph): string[][] => {
  const cycles: string[][] = [];
  const grouped = new Set<string>();
  for (const folder of [...graph.keys()].sort()) {
    if (grouped.has(folder)) continue;
    const cycle = shortestCycle(graph, folder);
    if (cycle === undefined) continue;
    cycles.push(cycle);
    const reached = reachableFrom(graph, folder);
    for (const other of reached) if (reachableFrom(graph, other).has(folder)) grouped.add(other);
  }
  return cycles;
};

const inLib = (folder: string): boolean => folder === 'lib' || folder.startsWith('lib/');

/** The rules, besides "no folder-level cycle": a folder may not import the folders a rule names. */
export const RULES: readonly { readonly rule: string; readonly forbids: (from: string, to: string) => boolean }[] = [
  {
    rule: 'lib/common imports nothing from the other lib folders',
    forbids: (from, to) => from === 'lib/common' && inLib(to),
  },
  {
    rule: 'only handlers/ and local/ import lib/runtime (the composition root)',
    forbids: (from, to) => to === 'lib/runtime' && from !== 'handlers' && from !== 'local',
  },
  {
    rule: 'lib/ never imports local/, scripts/, bench/ or tests/',
    forbids: (from, to) => inLib(from) && ['local', 'scripts', 'bench', 'tests'].includes(to),
  },
  {
    rule: 'handlers/ import only from lib/',
    forbids: (from, to) => from === 'handlers' && !inLib(to),
  },
];

/** Every broken rule of an import graph; none means the layering holds. */
export const checkLayers = (imports: readonly ImportEdge[]): Violation[] => {
  const graph = folderGraph(imports);
  const cycles = findCycles(graph).map((cycle) => ({
    rule: NO_CYCLE,
    cycle,
    imports: cycle.map((from, i) => graph.get(from)?.get(cycle[(i + 1) % cycle.length] as string)?.[0] as ImportEdge),
  }));
  const broken = RULES.flatMap(({ rule, forbids }) =>
    [...graph].flatMap(([from, targets]) =>
      [...targets].filter(([to]) => forbids(from, to)).map(([, edges]) => ({ rule, imports: [edges[0] as ImportEdge] })),
    ),
  );
  return [...cycles, ...broken];
};

/**
 * The graph as text, one folder a line with what it imports, in layers: a folder comes after
 * everything it imports (where there is no cycle), so reading down goes from the shared helpers
 * to the entry points.
 */
export const renderGraph = (graph: FolderGraph): string[] => {
  const depth = new Map<string, number>();
  const depthOf = (folder: string, seen: ReadonlySet<string>): number => {
    const known = depth.get(folder);
    if (known !== undefined) return known;
    const below = targetsOf(graph, folder).filter((to) => !seen.has(to));
    const value = below.length === 0 ? 0 : 1 + Math.max(...below.map((to) => depthOf(to, new Set([...seen, to]))));
    depth.set(folder, value);
    return value;
  };
  const folders = [...new Set([...graph.keys(), ...[...graph.values()].flatMap((targets) => [...targets.keys()])])];
  const ordered = folders.sort((a, b) => depthOf(a, new Set([a])) - depthOf(b, new Set([b])) || a.localeCompare(b));
  const width = Math.max(...ordered.map((folder) => folder.length));
  return ordered.map((folder) => {
    const targets = targetsOf(graph, folder);
    return `${folder.padEnd(width)}  → ${targets.length === 0 ? '(nothing of ours)' : targets.join(', ')}`;
  });
};

const describe = (edge: ImportEdge): string => `${edge.file} imports '${edge.specifier}'`;

/** Prints the graph and each rule's verdict; 1 when a rule is broken. */
export const run = (root: string, out: (line: string) => void): number => {
  const files = listSources(root);
  const imports = readImports(root, files);
  out(`folder-level imports of ${SOURCE_ROOTS.map((folder) => `${folder}/`).join(' ')} (${files.length} files), lowest layer first:`);
  for (const line of renderGraph(folderGraph(imports))) out(`  ${line}`);
  const violations = checkLayers(imports);
  out('rules:');
  for (const rule of [NO_CYCLE, ...RULES.map(({ rule }) => rule)]) {
    const broken = violations.filter((violation) => violation.rule === rule);
    out(`  ${broken.length === 0 ? 'ok    ' : 'BROKEN'}  ${rule}`);
    for (const { cycle, imports: shown } of broken) {
      if (cycle !== undefined) out(`            ${[...cycle, cycle[0]].join(' → ')}`);
      for (const edge of shown) out(`            ${describe(edge)}`);
    }
  }
  return violations.length === 0 ? 0 : 1;
};

if (require.main === module) process.exitCode = run(resolve(__dirname, '..'), (line) => process.stdout.write(`${line}\n`));
