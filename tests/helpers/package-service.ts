import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
