import { spawnSync } from 'node:child_process';
import { bootstrapFor } from '../../scripts/rehearsal/bootstrap';
import { checkAlarmMetrics, checkCalls, checkDeployCalls } from '../../scripts/rehearsal/checks';
import { FUNCTIONS, MAPPING } from '../../scripts/rehearsal/environment';
import type { PackagedTemplate } from '../../scripts/rehearsal/package';
import type { RehearsalReport } from '../../scripts/rehearsal/rehearse';
import { formatReport, REHEARSAL_STAGE, rehearse } from '../../scripts/rehearsal/rehearse';
import type { RehearsedStack } from '../../scripts/rehearsal/stack';
import { packagedOnce } from '../helpers/package-service';

/**
 * `npm run rehearse` (scripts/rehearsal/): the real `serverless deploy` and `serverless remove` run the
 * stack's life cycle in moto, the packaged bundles run against it. It passes on the project as it is,
 * and its checks fail when a role loses a statement a call needs, or an alarm names a metric nobody prints.
 */
const motoInstalled = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).status === 0;
if (!motoInstalled && !process.env.CI)
  console.log('moto_server is not installed (pip install "moto[server]"): skipping the deploy rehearsal');
const withMoto = motoInstalled || process.env.CI ? describe : describe.skip;

withMoto('the deploy rehearsal (npm run rehearse)', () => {
  let report: RehearsalReport;
  let stack: RehearsedStack;

  beforeAll(async () => {
    // Two packages of the stage (the second keyed by a parameter that changes nothing): two Deployments.
    const first = packagedOnce(REHEARSAL_STAGE).dir;
    const second = packagedOnce(REHEARSAL_STAGE, ['apiThrottleBurstLimit=100']).dir;
    report = await rehearse({ packageDirs: [first, second] });
    console.log(['deploy rehearsal:', ...formatReport(report)].join('\n'));
    if (report.stack === undefined) throw new Error('the rehearsal made no stack');
    stack = report.stack;
  }, 300_000);

  it('passes on the project: every life-cycle step, scenario and call as expected, every alarm metric printed or published', () => {
    const failed = report.sections.flatMap((section) => section.findings.filter((f) => !f.ok).map((f) => `${f.subject}: ${f.detail}`));
    expect(failed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.lifecycle.map((s) => [s.step, s.ok])).toEqual([
      ['create (serverless deploy, first time)', true],
      ['update with a code change (a new Deployment)', true],
      ['update that fails midway, rolled back', true],
      ['remove (serverless remove)', true],
      ['create again after the removal', true],
    ]);
    // It saw the relay work, and the CLI deploy: calls of every function, the outage and dead-letter metrics.
    expect(new Set(report.calls.map((call) => call.caller))).toEqual(
      new Set(['ingest', 'deliver', 'status', 'testAlert', 'deadLetterWatch', 'event source mapping']),
    );
    expect(new Set(report.printed.map((p) => p.name))).toEqual(
      expect.objectContaining(new Set(['SquadcastFailingFor', 'OldestHeldBackAlertAge', 'OldestDeadLetterAge', 'AlertsDeadLettered'])),
    );
    expect(new Set(report.deployCalls.map((c) => c.action))).toEqual(
      expect.objectContaining(new Set(['cloudformation:CreateChangeSet', 'iam:PassRole', 's3:PutObject', 'cloudformation:DeleteStack'])),
    );
  });

  /** The template with one of deliver's statements taken out. */
  const withoutStatement = (template: PackagedTemplate, action: string): PackagedTemplate => {
    const copy = JSON.parse(JSON.stringify(template)) as PackagedTemplate;
    const policies = copy.Resources.DeliverRole?.Properties?.Policies as Array<{
      PolicyDocument: { Statement: Array<{ Action: unknown }> };
    }>;
    for (const policy of policies)
      policy.PolicyDocument.Statement = policy.PolicyDocument.Statement.filter((s) => !JSON.stringify(s.Action).includes(action));
    return copy;
  };

  it('fails when a statement a bundle needs is removed from its role, or the boundary does not allow it', async () => {
    const callers = { ...FUNCTIONS, [MAPPING]: FUNCTIONS.deliver };
    const boundary = bootstrapFor({ account: stack.facts.account, region: stack.facts.region }).boundary.policy;
    const withoutUpdate = await checkCalls(
      withoutStatement(report.template, 'dynamodb:UpdateItem'),
      stack.facts,
      report.calls,
      callers,
      boundary,
    );
    // The claim's put and its update share one statement: both are refused without it.
    expect(withoutUpdate.filter((f) => !f.ok).map((f) => f.subject)).toEqual([
      'deliver → dynamodb:PutItem',
      'deliver → dynamodb:UpdateItem',
    ]);
    const narrowBoundary = { ...boundary, Statement: boundary.Statement.filter((s) => s.Sid !== 'OwnParameters') };
    const refused = (await checkCalls(report.template, stack.facts, report.calls, callers, narrowBoundary))
      .filter((f) => !f.ok)
      .map((f) => f.subject);
    expect(new Set(refused)).toEqual(new Set(['ingest → ssm:GetParameter', 'deliver → ssm:GetParameter']));
  });

  it('fails when the GitHub deploy role cannot pass the service role, or upload the artifacts', async () => {
    const role = bootstrapFor({ account: '123456789012', region: 'us-east-1' }).gitHubRole;
    const without = (sid: string) => ({
      ...role,
      policies: role.policies.map((p) => ({ ...p, Statement: p.Statement.filter((s) => s.Sid !== sid) })),
    });
    const denied = async (sid: string) =>
      new Set((await checkDeployCalls(report.deployCalls, without(sid))).filter((f) => !f.ok).map((f) => f.subject));
    expect(await denied('PassTheServiceRole')).toEqual(new Set(['deploy identity → iam:PassRole']));
    expect(await denied('DeploymentArtifacts')).toEqual(
      new Set(['deploy identity → s3:PutObject', 'deploy identity → s3:GetObject', 'deploy identity → s3:DeleteObject']),
    );
  });

  it('fails when an alarm names a metric no bundle prints', () => {
    const copy = JSON.parse(JSON.stringify(report.template)) as PackagedTemplate;
    const alarm = copy.Resources.SquadcastOutageAlarm?.Properties as Record<string, unknown>;
    alarm.MetricName = 'SquadcastFailingForSeconds';
    const findings = checkAlarmMetrics(copy, stack.facts, report.printed);
    expect(findings.filter((f) => !f.ok).map((f) => f.subject)).toEqual(['SquadcastOutageAlarm → SquadcastFailingForSeconds']);
  });
});
