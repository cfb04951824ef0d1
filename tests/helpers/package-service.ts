import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackagedTemplate } from '../../scripts/rehearsal/package';
import { credentialFreeEnv, PROJECT_ROOT, packageService } from '../../scripts/rehearsal/package';

const projectRoot = PROJECT_ROOT;

export type { PackagedTemplate };
export { credentialFreeEnv, packageService };

/** Where packages of this test run are kept: one directory per (stage, params), under the project's tmp/. */
const PACKAGES = join(projectRoot, 'tmp', 'packages');
/** The jest run: workers are children of one jest process (in band, the process itself). */
const RUN_ID = String(process.env.JEST_WORKER_ID === undefined ? process.pid : process.ppid);

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** True when the lock names a process that no longer exists (a lock just made, its pid not yet written, is held). */
const holderIsGone = (lock: string): boolean => {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
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
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      // A lock whose holder is gone (a run stopped with Ctrl-C or killed mid-package) is taken over.
      if (holderIsGone(lock)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`${lock} is held: another serverless package never ended (remove it if no test runs)`);
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
