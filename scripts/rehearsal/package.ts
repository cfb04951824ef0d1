import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project's root: serverless.yml is here. */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** A CloudFormation resource as the packaged template holds it. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** The CloudFormation template `serverless package` writes, as JSON. */
export interface PackagedTemplate {
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs: Record<string, { readonly Value: unknown; readonly [key: string]: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** The environment of a machine with no AWS account: anything that tried AWS would fail fast. */
export const credentialFreeEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('AWS_') && key !== 'AWS_CA_BUNDLE') delete env[key];
  }
  return { ...env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
};

/**
 * `serverless package --stage <stage>` with osls, offline and without credentials, into `outDir`:
 * the bundles and the templates a deploy would upload.
 */
export const packageService = (outDir: string, stage: string, params: readonly string[] = []): PackagedTemplate => {
  const cli = join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  const run = spawnSync(process.execPath, [cli, 'package', '--stage', stage, '--package', outDir, ...params.map((p) => `--param=${p}`)], {
    cwd: PROJECT_ROOT,
    env: credentialFreeEnv(),
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (run.status !== 0) {
    throw new Error(`serverless package failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stdout}\n${run.stderr}`);
  }
  return readTemplate(outDir, 'update');
};

export const readTemplate = (dir: string, kind: 'create' | 'update'): PackagedTemplate =>
  JSON.parse(readFileSync(join(dir, `cloudformation-template-${kind}-stack.json`), 'utf8')) as PackagedTemplate;
