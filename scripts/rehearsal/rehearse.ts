import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapFor } from './bootstrap';
import type { Finding } from './checks';
import { checkAlarmMetrics, checkCalls, checkDeployCalls } from './checks';
import type { DeployCall } from './deploy-proxy';
import { startDeployProxy } from './deploy-proxy';
import type { Datapoint } from './emf';
import { FUNCTIONS, MAPPING } from './environment';
import type { LifecycleStep } from './lifecycle';
import { runLifecycle } from './lifecycle';
import { startMoto } from './moto';
import type { PackagedTemplate } from './package';
import { PROJECT_ROOT, packageService, readTemplate } from './package';
import type { AwsCall } from './recording-proxy';
import { checkRules, RULES } from './rules';
import type { ScenarioRun } from './scenarios';
import { runScenarios } from './scenarios';
import type { RehearsedStack } from './stack';
import { createBootstrap, forMoto } from './stack';

/**
 * `npm run rehearse`: a deploy rehearsal without an AWS account. The `rehearsal` stage is packaged twice
 * and checked (cfn-lint, the AWS rules moto does not enforce); infra/bootstrap.yml is created in moto on
 * 127.0.0.1; then the real `serverless deploy` and `serverless remove` run the stack's life cycle
 * against moto (lifecycle.ts), every call they make checked against the GitHub deploy role; after the
 * first create the packaged bundles run against the stack (scenarios.ts), every call checked against
 * their roles and the permissions boundary, every alarm's metric against what they printed.
 */
export const REHEARSAL_STAGE = 'rehearsal';
const SERVICE = 'threatstack-squadcast-relay';

export interface RehearsalReport {
  readonly sections: ReadonlyArray<{ readonly title: string; readonly findings: readonly Finding[] }>;
  readonly lifecycle: readonly LifecycleStep[];
  /** Everything the checks read, for a test that checks a changed template against the same run. */
  readonly calls: readonly AwsCall[];
  readonly deployCalls: readonly DeployCall[];
  readonly printed: readonly Datapoint[];
  readonly stack?: RehearsedStack;
  readonly template: PackagedTemplate;
  readonly ok: boolean;
}

export interface RehearsalOptions {
  /** Two packages already built for the rehearsal stage; otherwise they are built in a temporary directory. */
  readonly packageDirs?: readonly [string, string];
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

const finding = (subject: string, ok: boolean, detail: string): Finding => ({ subject, ok, detail });

/** Runs cfn-lint with the project's settings: every finding is a failure. */
const lint = (templatePath: string): Finding => {
  const run = spawnSync('cfn-lint', ['--config-file', join(PROJECT_ROOT, '.cfnlintrc'), '--', templatePath], { encoding: 'utf8' });
  if (run.error !== undefined) return finding('cfn-lint', false, 'not installed: pip install cfn-lint==1.51.0');
  return finding('cfn-lint', run.status === 0, run.status === 0 ? 'no finding' : `${run.stdout}${run.stderr}`.trim());
};

/** The template's own checks: cfn-lint and every AWS rule of rules.ts (Lambda's default quota of 1000). */
const templateFindings = (dir: string, template: PackagedTemplate): Finding[] => {
  const found = checkRules(template, { service: SERVICE, stackName: `${SERVICE}-${REHEARSAL_STAGE}`, accountConcurrency: 1000 });
  return [
    lint(join(dir, 'cloudformation-template-update-stack.json')),
    ...RULES.map((rule) => {
      const broken = found.filter((f) => f.rule === rule.id);
      return finding(
        `rule ${rule.id}`,
        broken.length === 0,
        broken.length === 0 ? rule.source : broken.map((f) => `${f.path}: ${f.problem}`).join('; '),
      );
    }),
  ];
};

export const rehearse = async (options: RehearsalOptions = {}): Promise<RehearsalReport> => {
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'relay-rehearsal-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(scratch, { recursive: true, force: true })];
  try {
    const packages =
      options.packageDirs ??
      ([join(scratch, 'package-1'), join(scratch, 'package-2')].map((dir) => {
        log(`packaging the ${REHEARSAL_STAGE} stage into ${dir}`);
        packageService(dir, REHEARSAL_STAGE);
        return dir;
      }) as [string, string]);
    const template = readTemplate(packages[0], 'update');

    log('starting moto_server on 127.0.0.1');
    const moto = await startMoto();
    cleanups.push(() => moto.stop());
    log(`creating infra/bootstrap.yml in moto ${moto.version}`);
    const made = await createBootstrap(moto.endpoint, 'example-org/threatstack-squadcast-relay');
    const bootstrap = bootstrapFor({ account: '123456789012', region: 'us-east-1' });
    const proxy = await startDeployProxy(moto.endpoint, { region: 'us-east-1', account: '123456789012', partition: 'aws' }, forMoto);
    cleanups.push(() => proxy.close());

    let scenarios: ScenarioRun = { findings: [], calls: [], printed: [] };
    let stack: RehearsedStack | undefined;
    const lifecycle = await runLifecycle({
      moto: moto.endpoint,
      proxy,
      stage: REHEARSAL_STAGE,
      stackName: `${SERVICE}-${REHEARSAL_STAGE}`,
      packages,
      log,
      afterCreate: async (created) => {
        stack = created;
        log('running the bundles against the stack');
        scenarios = await runScenarios({
          moto: moto.endpoint,
          stack: created,
          packageDir: packages[0],
          stage: REHEARSAL_STAGE,
          scratch,
          onCleanup: (cleanup) => cleanups.push(cleanup),
        });
      },
    });

    const callers = { ...FUNCTIONS, [MAPPING]: FUNCTIONS.deliver };
    const sections = [
      {
        title: 'Template and bootstrap',
        findings: [
          ...templateFindings(packages[0], template),
          finding(
            'infra/bootstrap.yml in moto',
            made.DeploymentBucketName === bootstrap.bucket.name,
            `bucket ${made.DeploymentBucketName}, role ${made.CloudFormationRoleArn}`,
          ),
        ],
      },
      {
        title: 'Life cycle (the real serverless deploy / remove, against moto)',
        findings: lifecycle.steps.map((s) => finding(s.step, s.ok, `${s.detail} (${s.seconds.toFixed(1)} s)`)),
      },
      ...(stack === undefined
        ? []
        : [
            {
              title: 'API-made resources (moto has no CloudFormation model for them)',
              findings: stack.notes.map((n) => finding(`${n.logicalId} (${n.type})`, true, `${n.how}: ${n.detail}`)),
            },
            { title: 'Packaged bundles, run with the environment the stack gives them', findings: scenarios.findings },
            {
              title: `Every AWS call of the bundles (${scenarios.calls.length}) against its role and the permissions boundary`,
              findings: await checkCalls(
                template,
                stack.facts,
                scenarios.calls,
                callers,
                bootstrapFor({ account: stack.facts.account, region: stack.facts.region }).boundary.policy,
              ),
            },
            { title: "Every alarm's metric", findings: checkAlarmMetrics(template, stack.facts, scenarios.printed) },
          ]),
      {
        title: `Every call of serverless deploy / remove (${proxy.calls.length}) against the GitHub deploy role`,
        findings: await checkDeployCalls(proxy.calls, bootstrap.gitHubRole),
      },
    ];
    return {
      sections,
      lifecycle: lifecycle.steps,
      calls: scenarios.calls,
      deployCalls: proxy.calls,
      printed: scenarios.printed,
      stack,
      template,
      ok: stack !== undefined && sections.every((s) => s.findings.every((f) => f.ok)),
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  }
};

/** The report as a table: one line a check. */
export const formatReport = (report: RehearsalReport): string[] =>
  report.sections.flatMap(({ title, findings }) => [
    '',
    title,
    ...findings.map((f) => `  ${f.ok ? 'ok  ' : 'FAIL'}  ${f.subject.padEnd(58)} ${f.detail.replace(/\s+/g, ' ').slice(0, 200)}`),
  ]);
