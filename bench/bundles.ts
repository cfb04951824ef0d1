import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { build } from 'esbuild';

export const PROJECT_ROOT = resolve(__dirname, '..');

/** A CloudFormation value as it appears in serverless-state.json: a literal or an intrinsic function. */
type CfnValue = string | number | boolean | { readonly [fn: string]: unknown };

export interface PackagedFunction {
  readonly name: string;
  /** The handler's source file in the project (`handlers/ingest.ts`). */
  readonly entry: string;
  /** The zip `serverless package` built, and the unzipped handler bundle. */
  readonly zipBytes: number;
  readonly bundlePath: string;
  readonly bundleBytes: number;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** The function's environment from serverless.yml, intrinsics unresolved. */
  readonly environment: Readonly<Record<string, CfnValue>>;
}

export interface PackagedService {
  readonly dir: string;
  readonly functions: Readonly<Record<string, PackagedFunction>>;
  /** `custom.esbuild` as serverless-esbuild read it, as esbuild options. */
  readonly esbuildOptions: BuildOptions;
  readonly seconds: number;
}

/** No AWS account, no profile: packaging is offline, and anything that tried AWS would fail fast. */
const offlineEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  return { ...env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
};

const run = (command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): void => {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
};

/** Unzips with Debian's `unzip` when present, else Python's zipfile module (no new system dependency). */
const unzip = (zipPath: string, into: string): void => {
  const probe = spawnSync('unzip', ['-v'], { encoding: 'utf8' });
  if (probe.status === 0) run('unzip', ['-q', '-o', zipPath, '-d', into], PROJECT_ROOT);
  else run('python3', ['-m', 'zipfile', '-e', zipPath, into], PROJECT_ROOT);
};

interface ServerlessState {
  readonly service: { readonly custom: { readonly esbuild: Record<string, unknown> } };
}

interface LambdaResource {
  readonly Type: string;
  readonly Properties: {
    readonly Handler: string;
    readonly MemorySize?: number;
    readonly Timeout?: number;
    readonly Code: { readonly S3Key: string };
    readonly Environment?: { readonly Variables?: Record<string, CfnValue> };
  };
}

/** serverless-esbuild's own keys, which esbuild itself does not take. */
const PLUGIN_ONLY_KEYS = new Set([
  'concurrency',
  'zipConcurrency',
  'config',
  'disableIncremental',
  'exclude',
  'installExtraArgs',
  'keepOutputDirectory',
  'nativeZip',
  'nodeExternals',
  'outputBuildFolder',
  'outputWorkFolder',
  'outputFileExtension',
  'packagePath',
  'packager',
  'packagerOptions',
  'patterns',
  'plugins',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'watch',
]);

/** `serverless package --stage bench` of the project at `root` (this one, or a ref's worktree), then every function's zip unzipped. */
export const packageService = (dir: string, root: string = PROJECT_ROOT): PackagedService => {
  const started = Date.now();
  run(join(root, 'node_modules', '.bin', 'serverless'), ['package', '--stage', 'bench', '--package', dir], root, offlineEnv());
  const seconds = (Date.now() - started) / 1000;
  // The compiled template is what AWS would get: each function's zip, handler, memory and environment.
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as {
    Resources: Record<string, LambdaResource>;
  };
  const functions: Record<string, PackagedFunction> = {};
  for (const resource of Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
    const { Handler, MemorySize, Timeout, Code, Environment } = resource.Properties;
    const zipName = Code.S3Key.split('/').pop() ?? '';
    const name = zipName.replace(/\.zip$/, '');
    const zipPath = join(dir, zipName);
    const into = join(dir, name);
    unzip(zipPath, into);
    const module = Handler.replace(/\.[^.]+$/, '');
    const bundlePath = join(into, `${module}.js`);
    functions[name] = {
      name,
      entry: `${module}.ts`,
      zipBytes: statSync(zipPath).size,
      bundlePath,
      bundleBytes: statSync(bundlePath).size,
      memoryMb: MemorySize ?? 1024,
      // CloudFormation's defaults when the template leaves them out.
      timeoutSeconds: Timeout ?? 3,
      environment: Environment?.Variables ?? {},
    };
  }
  const state = JSON.parse(readFileSync(join(dir, 'serverless-state.json'), 'utf8')) as ServerlessState;
  const esbuildOptions = Object.fromEntries(
    Object.entries(state.service.custom.esbuild).filter(([key]) => !PLUGIN_ONLY_KEYS.has(key)),
  ) as BuildOptions;
  return { dir, functions, esbuildOptions, seconds };
};

/**
 * Resolves a function's serverless.yml environment for a local run: literals are kept,
 * `Fn::Join` of literals is joined, every other intrinsic (a `Ref` to a queue...) must be
 * given in `locals`, and keys in `locals` override.
 */
export const resolveEnvironment = (
  environment: Readonly<Record<string, CfnValue>>,
  locals: Readonly<Record<string, string>>,
): Record<string, string> => {
  const resolved: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) {
    if (key in locals) continue;
    if (typeof value !== 'object') {
      resolved[key] = String(value);
      continue;
    }
    const join = value['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]) && join[1].every((part) => typeof part === 'string')) {
      resolved[key] = (join[1] as string[]).join(join[0]);
      continue;
    }
    throw new Error(`environment ${key}: a CloudFormation value with no local value given`);
  }
  return { ...resolved, ...locals };
};

/** Bundles `source` (TypeScript, its imports resolved from `root`) with the given esbuild options. */
export const bundleSource = async (
  source: string,
  outfile: string,
  options: BuildOptions,
  root: string = PROJECT_ROOT,
): Promise<number> => {
  await build({
    ...options,
    stdin: { contents: source, resolveDir: root, loader: 'ts', sourcefile: 'bench-entry.ts' },
    outfile,
    bundle: true,
    write: true,
    logLevel: 'warning',
  });
  return statSync(outfile).size;
};

/** Bundles a file (a path in this project, or an absolute one) with the given esbuild options (a function's, for a bare reference). */
export const bundleEntry = async (entry: string, outfile: string, options: BuildOptions): Promise<void> => {
  await build({ ...options, entryPoints: [resolve(PROJECT_ROOT, entry)], outfile, bundle: true, write: true, logLevel: 'warning' });
};

/** Bundles a benchmark worker (a file under bench/) to run under plain `node`, without tsx's hooks. */
export const bundleWorker = async (entry: string, outfile: string): Promise<void> => {
  await build({
    entryPoints: [join(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
};
