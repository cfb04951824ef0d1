import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const projectRoot = resolve(__dirname, '../..');

/** The environment of a machine with no AWS account: anything needing AWS fails fast. */
export const credentialFreeEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('AWS_') && key !== 'AWS_CA_BUNDLE') delete env[key];
  }
  return {
    ...env,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
};

/** The CloudFormation template `serverless package` writes, as JSON. */
export interface PackagedTemplate {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> } & Record<string, unknown>>;
  readonly Outputs: Record<string, { readonly Value: unknown }>;
  readonly Conditions?: Record<string, unknown>;
}

/**
 * `serverless package --stage <stage>` with osls, offline and without credentials, into `outDir`:
 * the bundles and the template a deploy would upload.
 */
export const packageService = (outDir: string, stage = 'ci', params: readonly string[] = []): PackagedTemplate => {
  const cli = join(projectRoot, 'node_modules', 'osls', 'bin', 'serverless.js');
  const run = spawnSync(process.execPath, [cli, 'package', '--stage', stage, '--package', outDir, ...params.map((p) => `--param=${p}`)], {
    cwd: projectRoot,
    env: credentialFreeEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0) {
    throw new Error(`serverless package failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stdout}\n${run.stderr}`);
  }
  return JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as PackagedTemplate;
};

/** Where packages of this test run are kept: one directory per (stage, params), under the project's tmp/. */
const PACKAGES = join(projectRoot, 'tmp', 'packages');
/** The jest run: workers are children of one jest process (in band, the process itself). */
const RUN_ID = String(process.env.JEST_WORKER_ID === undefined ? process.pid : process.ppid);

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * The package of `stage` (with `params`), built once per test run and shared by every test file
 * that reads it. `serverless package` works in the project directory (serverless-esbuild's .esbuild/,
 * osls's .serverless/), so two at once would overwrite each other's bundles: a lock directory makes
 * them take turns, and the first one to need a package builds it for the others.
 */
export const packagedOnce = (stage = 'ci', params: readonly string[] = []): { dir: string; template: PackagedTemplate } => {
  const key = createHash('sha256')
    .update(JSON.stringify([stage, params]))
    .digest('hex')
    .slice(0, 12);
  const dir = join(PACKAGES, `${RUN_ID}-${stage}-${key}`);
  const templatePath = join(dir, 'cloudformation-template-update-stack.json');
  const lock = join(projectRoot, 'tmp', 'package.lock');
  mkdirSync(PACKAGES, { recursive: true });
  for (const deadline = Date.now() + 300_000; ; sleepSync(100)) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} is held: another serverless package never ended (remove it if no test runs)`);
    }
  }
  try {
    // Packages of earlier runs are of no use now.
    for (const old of readdirSync(PACKAGES))
      if (!old.startsWith(`${RUN_ID}-`)) rmSync(join(PACKAGES, old), { recursive: true, force: true });
    if (!existsSync(templatePath)) packageService(dir, stage, params);
    return { dir, template: JSON.parse(readFileSync(templatePath, 'utf8')) as PackagedTemplate };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
};
