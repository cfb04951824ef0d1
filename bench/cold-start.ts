import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { build } from 'esbuild';
import { bundleSource } from './bundles';

export type SdkClient = 'sqs' | 'dynamodb' | 'ssm';

/**
 * Per function: the SDK clients it creates at init (the issue's bare reference creates the same and
 * nothing else), and those it also needs later (SSM, to read its secret on the first invocation).
 */
export const FUNCTION_CLIENTS: Readonly<Record<string, { readonly atInit: readonly SdkClient[]; readonly later: readonly SdkClient[] }>> = {
  ingest: { atInit: ['sqs'], later: ['ssm'] },
  deliver: { atInit: ['sqs', 'dynamodb'], later: ['ssm'] },
  status: { atInit: ['sqs', 'dynamodb'], later: [] },
  testAlert: { atInit: ['sqs'], later: [] },
  deadLetterWatch: { atInit: ['sqs'], later: [] },
};

const CLIENT_IMPORTS: Readonly<Record<SdkClient, { readonly module: string; readonly name: string }>> = {
  sqs: { module: '@aws-sdk/client-sqs', name: 'SQSClient' },
  dynamodb: { module: '@aws-sdk/client-dynamodb', name: 'DynamoDBClient' },
  ssm: { module: '@aws-sdk/client-ssm', name: 'SSMClient' },
};

/**
 * A handler that creates `atInit` clients at load and only imports the `later` ones (as the
 * functions do with SSM): the least a function with those clients can cost.
 */
export const bareHandlerSource = (atInit: readonly SdkClient[], later: readonly SdkClient[] = []): string =>
  [
    ...[...atInit, ...later].map((client) => `import { ${CLIENT_IMPORTS[client].name} } from '${CLIENT_IMPORTS[client].module}';`),
    `const clients = [${atInit.map((client) => `new ${CLIENT_IMPORTS[client].name}({})`).join(', ')}];`,
    `const later = [${later.map((client) => CLIENT_IMPORTS[client].name).join(', ')}];`,
    'export const handler = async (): Promise<number> => clients.length + later.length;',
  ].join('\n');

/** The bare bundle, its SDK resolved from `root`: the same SDK build as the functions it is compared with. */
export const buildBareBundle = (
  outfile: string,
  options: BuildOptions,
  atInit: readonly SdkClient[],
  later: readonly SdkClient[] = [],
  root?: string,
): Promise<number> => bundleSource(bareHandlerSource(atInit, later), outfile, options, root);

/** Loads a bundle in the child and prints how long `require` took: module evaluation plus the function's init code. */
const LOAD_SCRIPT =
  'const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';

/** One fresh `node` process (the project's Node unless another binary is named): milliseconds to load the bundle and run its init. */
export const timeLoad = (bundlePath: string, env: NodeJS.ProcessEnv, node: string = process.execPath): number => {
  const result = spawnSync(node, ['-e', LOAD_SCRIPT, bundlePath], { env, encoding: 'utf8' });
  const ms = Number(result.stdout);
  if (result.status !== 0 || !Number.isFinite(ms)) throw new Error(`loading ${bundlePath} failed (${result.status}): ${result.stderr}`);
  return ms;
};

export interface ColdStartSamples {
  readonly realMs: number[];
  /** One series per bare bundle, in the order given. */
  readonly bareMs: number[][];
}

/** The real bundle and its bare references take turns, in an order that rotates, so a busy moment hits all alike. */
export const sampleColdStarts = (
  realPath: string,
  barePaths: readonly string[],
  env: NodeJS.ProcessEnv,
  runs: number,
): ColdStartSamples => {
  const paths = [realPath, ...barePaths];
  const samples = paths.map(() => [] as number[]);
  for (const path of paths) timeLoad(path, env); // page cache
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < paths.length; i++) {
      const index = (run + i) % paths.length;
      (samples[index] as number[]).push(timeLoad(paths[index] as string, env));
    }
  }
  const [realMs = [], ...bareMs] = samples;
  return { realMs, bareMs };
};

/** The version another Node binary reports (e.g. `v20.20.2`), or undefined when it does not run. */
export const nodeVersionOf = (node: string): string | undefined => {
  const result = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
};

export interface NodeComparisonSamples {
  /** The project's Node (the one the bench runs on, as Lambda's nodejs24.x). */
  readonly thisMs: number[];
  readonly otherMs: number[];
}

/**
 * The same bundle loaded by this Node and by another one (BENCH_COMPARE_NODE), taking turns in an
 * order that alternates each round: what changing the runtime alone does to a cold start.
 */
export const sampleNodeComparison = (
  bundlePath: string,
  otherNode: string,
  env: NodeJS.ProcessEnv,
  runs: number,
): NodeComparisonSamples => {
  const thisMs: number[] = [];
  const otherMs: number[] = [];
  timeLoad(bundlePath, env);
  timeLoad(bundlePath, env, otherNode);
  for (let run = 0; run < runs; run++) {
    if (run % 2 === 0) {
      thisMs.push(timeLoad(bundlePath, env));
      otherMs.push(timeLoad(bundlePath, env, otherNode));
    } else {
      otherMs.push(timeLoad(bundlePath, env, otherNode));
      thisMs.push(timeLoad(bundlePath, env));
    }
  }
  return { thisMs, otherMs };
};

/** One part of a bundle's import graph: a package (`@aws-sdk/client-sqs`) or a project folder (`lib/delivery`). */
export interface ImportGroup {
  readonly module: string;
  readonly bytes: number;
}

/** The package or project folder an esbuild input path belongs to. */
export const importGroupOf = (inputPath: string): string => {
  const packages = 'node_modules/';
  const at = inputPath.lastIndexOf(packages);
  const parts = (at >= 0 ? inputPath.slice(at + packages.length) : inputPath).split('/');
  if (at >= 0) return (parts[0] ?? '').startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? inputPath);
  return parts.length > 2 ? parts.slice(0, 2).join('/') : inputPath;
};

/**
 * A function's import graph by size: its entry bundled again with the same esbuild options and a
 * metafile, each input's bytes in the output summed by package or project folder, largest first.
 */
export const importGraphOf = async (root: string, entry: string, options: BuildOptions): Promise<ImportGroup[]> => {
  const result = await build({
    ...options,
    entryPoints: [join(root, entry)],
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: join(root, 'import-graph.js'),
  });
  const bytes = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs))
    for (const [path, input] of Object.entries(output.inputs)) {
      const group = importGroupOf(path);
      bytes.set(group, (bytes.get(group) ?? 0) + input.bytesInOutput);
    }
  return [...bytes].map(([module, size]) => ({ module, bytes: size })).sort((a, b) => b.bytes - a.bytes);
};
