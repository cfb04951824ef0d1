// The GitHub Actions workflow, checked offline with action-validator (the schemastore schema,
// compiled to WebAssembly in the npm package) and against the deployment rules it must keep.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const workflowsDir = join(root, '.github', 'workflows');
const validator = join(root, 'node_modules', '@action-validator', 'cli', 'cli.mjs');
const workflows = readdirSync(workflowsDir).filter((file) => /\.ya?ml$/.test(file));
const ci = readFileSync(join(workflowsDir, 'ci.yml'), 'utf8');

const validate = (file: string): { status: number | null; output: string } => {
  const run = spawnSync(process.execPath, [validator, file], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
};

/** The lines of one top-level job (two-space indented key) of ci.yml. */
const job = (name: string): string => {
  const match = new RegExp(`\\n  ${name}:\\n([\\s\\S]*?)(?=\\n  [a-z][\\w-]*:\\n|$)`).exec(ci);
  if (!match?.[1]) throw new Error(`job ${name} not found in ci.yml`);
  return match[1];
};

describe('.github/workflows', () => {
  it('holds the CI workflow', () => {
    expect(workflows).toContain('ci.yml');
  });

  it.each(workflows)('%s passes action-validator', (file) => {
    const result = validate(join(workflowsDir, file));
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('action-validator does catch a broken workflow (so a pass means something)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'workflow-lint-'));
    try {
      const broken = join(dir, 'broken.yml');
      writeFileSync(
        broken,
        ci.replace('cancel-in-progress: false', 'cancel-in-progress: sometimes').replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04'),
      );
      const result = validate(broken);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('cancel-in-progress');
      expect(result.output).toContain("Additional property 'runs_on' is not allowed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tests on every push, on any branch', () => {
    expect(ci).toMatch(/\non:\n {2}push:\n/);
    expect(ci).not.toMatch(/\n {2}push:\n {4}branches/);
    expect(job('test')).toContain('- run: npm test');
  });

  it('deploys main only, after the tests, passing only the stage and its region: no tunable', () => {
    const deploy = job('deploy');
    expect(deploy).toContain('needs: test');
    expect(deploy).toContain("if: github.ref == 'refs/heads/main'");
    const deployCommands = deploy.split('\n').filter((line) => line.includes('run: npx --no-install serverless deploy'));
    expect(deployCommands).toEqual([
      '        run: npx --no-install serverless deploy --stage "$STAGE" --region "${{ steps.settings.outputs.region }}"',
    ]);
    // Every other setting lives in serverless.yml params: nothing forwarded, so nothing reset by a deploy.
    expect(ci).not.toContain('--param');
    expect(deploy).toContain('serverless print --stage "$STAGE" --path provider.region --format text');
  });

  it('deploys only while its commit is the head of main, checked at the start and right before the deploy, after the preflight', () => {
    const deploy = job('deploy');
    const steps = deploy.split('\n      - ').slice(1);
    const at = (text: string) => steps.findIndex((step) => step.includes(text));
    expect(at('run: scripts/ci/still-head-of-main.sh')).toBe(1);
    expect(at('npm run preflight -- --stage "$STAGE"')).toBeLessThan(at('id: head-again'));
    expect(at('id: head-again')).toBeLessThan(at('serverless deploy --stage'));
    // Every step after the first check is gated on it; the deploy and what follows on the second.
    for (const step of steps.slice(2)) expect(step).toMatch(/if: (always\(\) && )?steps\.head(-again)?\.outputs\.current == 'true'/);
    for (const step of steps.slice(at('serverless deploy --stage'))) expect(step).toContain("steps.head-again.outputs.current == 'true'");
  });

  it('still-head-of-main.sh says current=true for the head of main, current=false once a newer push moved it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'head-of-main-'));
    try {
      const git = (cwd: string, ...args: string[]) => {
        const run = spawnSync('git', args, {
          cwd,
          encoding: 'utf8',
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: 't',
            GIT_AUTHOR_EMAIL: 't@example.com',
            GIT_COMMITTER_NAME: 't',
            GIT_COMMITTER_EMAIL: 't@example.com',
          },
        });
        if (run.status !== 0) throw new Error(`git ${args.join(' ')}: ${run.stderr}`);
        return run.stdout.trim();
      };
      const origin = join(dir, 'origin.git');
      const work = join(dir, 'work');
      git(dir, 'init', '--bare', '-b', 'main', origin);
      git(dir, 'clone', origin, work);
      git(work, 'commit', '--allow-empty', '-m', 'one');
      git(work, 'push', 'origin', 'HEAD:main');
      const first = git(work, 'rev-parse', 'HEAD');
      const check = (sha: string) => {
        const output = join(dir, `output-${sha}`);
        writeFileSync(output, '');
        const run = spawnSync(join(root, 'scripts', 'ci', 'still-head-of-main.sh'), [], {
          cwd: work,
          encoding: 'utf8',
          env: { ...process.env, GITHUB_SHA: sha, GITHUB_OUTPUT: output },
        });
        return { status: run.status, output: readFileSync(output, 'utf8'), stdout: run.stdout };
      };
      expect(check(first)).toEqual({ status: 0, output: 'current=true\n', stdout: '' });
      git(work, 'commit', '--allow-empty', '-m', 'two');
      git(work, 'push', 'origin', 'HEAD:main');
      const stale = check(first);
      expect(stale.output).toBe('current=false\n');
      expect(stale.stdout).toContain(`::notice::${first} is no longer the head of main`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('proves the stage after the deploy (npm run smoke), with the test alert on demand', () => {
    const deploy = job('deploy');
    expect(deploy.indexOf('npm run smoke -- --stage "$STAGE"')).toBeGreaterThan(deploy.indexOf('serverless deploy --stage'));
    expect(deploy).toContain("${{ inputs.test_alert && '--test-alert' || '' }}");
    expect(ci).toMatch(/test_alert:\n\s+description: .*\n\s+required: false\n\s+type: boolean/);
  });

  it('pins every action by full commit, with its version in a comment; Dependabot proposes updates', () => {
    const uses = [...ci.matchAll(/uses: ([^\s]+)(.*)/g)].map((m): [string, string] => [m[1] ?? '', m[2] ?? '']);
    expect(uses.length).toBeGreaterThan(0);
    for (const [action, comment] of uses) {
      expect({ action, pinned: /@[0-9a-f]{40}$/.test(action) }).toEqual({ action, pinned: true });
      expect({ action, comment: /^ # v\d+\.\d+\.\d+$/.test(comment) }).toEqual({ action, comment: true });
    }
    const dependabot = readFileSync(join(root, '.github', 'dependabot.yml'), 'utf8');
    expect(dependabot).toContain('package-ecosystem: github-actions');
    expect(dependabot).toContain('package-ecosystem: npm');
    expect(dependabot.match(/interval: weekly/g)).toHaveLength(2);
  });

  it('runs the deploy rehearsal in the test job, with moto installed', () => {
    const test = job('test');
    expect(test).toContain('pip install cfn-lint==1.51.0 "moto[server]==5.2.1"');
    expect(test).toContain('run: npm run rehearse');
  });

  it('takes AWS credentials from OIDC: id-token write, a role to assume, no stored keys', () => {
    const deploy = job('deploy');
    expect(deploy).toMatch(/permissions:\n\s+contents: read\n\s+id-token: write/);
    expect(deploy).toMatch(
      /uses: aws-actions\/configure-aws-credentials@[0-9a-f]{40} # v[\d.]+\n\s+with:\n\s+role-to-assume: \$\{\{ vars\.AWS_DEPLOY_ROLE_ARN \}\}/,
    );
    expect(ci).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|secrets\./);
    // Only the deploy job may ask for an OIDC token.
    expect(job('test')).not.toContain('id-token');
    expect(ci).toMatch(/^permissions:\n {2}contents: read\n/m);
  });

  it('runs one deploy at a time per stage, never cancelling one halfway', () => {
    const deploy = job('deploy');
    expect(deploy).toMatch(
      /concurrency:\n\s+group: deploy-\$\{\{ inputs\.stage \|\| vars\.DEPLOY_STAGE \|\| 'prod' \}\}\n\s+cancel-in-progress: false/,
    );
    expect(deploy).toContain("STAGE: ${{ inputs.stage || vars.DEPLOY_STAGE || 'prod' }}");
  });

  it('installs a pinned cfn-lint before the tests, and lints the packaged template with .cfnlintrc', () => {
    const test = job('test');
    const install = test.indexOf('- run: pip install cfn-lint==1.51.0');
    expect(install).toBeGreaterThan(-1);
    expect(install).toBeLessThan(test.indexOf('- run: npm test'));
    expect(test).toContain('run: cfn-lint --config-file .cfnlintrc -- .serverless/cloudformation-template-update-stack.json');
    // .ci/run, the other CI entry point, lints the same artifact.
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toContain(
      'cfn-lint --config-file .cfnlintrc -- .serverless/cloudformation-template-update-stack.json',
    );
  });
});
