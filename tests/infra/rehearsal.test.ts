import { spawnSync } from 'node:child_process';
import { checkAlarmMetrics, checkCalls } from '../../scripts/rehearsal/checks';
import type { PackagedTemplate } from '../../scripts/rehearsal/package';
import type { RehearsalReport } from '../../scripts/rehearsal/rehearse';
import { formatReport, REHEARSAL_STAGE, rehearse } from '../../scripts/rehearsal/rehearse';
import { packagedOnce } from '../helpers/package-service';

/**
 * `npm run rehearse` (scripts/rehearsal/): the packaged stack created in moto's CloudFormation and
 * its packaged bundles run against it. It passes on the project as it is, and its checks fail when
 * the template loses an IAM statement a bundle needs, or names a metric nobody prints.
 */
const motoInstalled = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).status === 0;
if (!motoInstalled && !process.env.CI)
  console.log('moto_server is not installed (pip install "moto[server]"): skipping the deploy rehearsal');
const withMoto = motoInstalled || process.env.CI ? describe : describe.skip;

withMoto('the deploy rehearsal (npm run rehearse)', () => {
  let report: RehearsalReport;

  beforeAll(async () => {
    report = await rehearse({ packageDir: packagedOnce(REHEARSAL_STAGE).dir });
    console.log(['deploy rehearsal:', ...formatReport(report)].join('\n'));
  }, 240_000);

  it('passes on the project: every scenario as expected, every call allowed, every alarm metric printed or published', () => {
    const failed = report.sections.flatMap((section) => section.findings.filter((f) => !f.ok).map((f) => `${f.subject}: ${f.detail}`));
    expect(failed).toEqual([]);
    expect(report.ok).toBe(true);
    // It saw the relay work: calls of every function, the metrics of the outage and dead-letter alarms.
    expect(new Set(report.calls.map((call) => call.caller))).toEqual(
      new Set(['ingest', 'deliver', 'status', 'testAlert', 'event source mapping']),
    );
    expect(new Set(report.printed.map((p) => p.name))).toEqual(
      expect.objectContaining(new Set(['OldestFailingAlertAge', 'AlertsDeadLettered'])),
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

  it('fails when a statement a bundle needs is removed from its role', () => {
    const findings = checkCalls(withoutStatement(report.template, 'dynamodb:UpdateItem'), report.stack.facts, report.calls, {
      ingest: 'IngestLambdaFunction',
      deliver: 'DeliverLambdaFunction',
      status: 'StatusLambdaFunction',
      testAlert: 'TestAlertLambdaFunction',
      'event source mapping': 'DeliverLambdaFunction',
    });
    const refused = findings.filter((f) => !f.ok).map((f) => f.subject);
    expect(refused).toEqual(['deliver → dynamodb:UpdateItem']);
  });

  it('fails when an alarm names a metric no bundle prints', () => {
    const copy = JSON.parse(JSON.stringify(report.template)) as PackagedTemplate;
    const alarm = copy.Resources.SquadcastOutageAlarm?.Properties as Record<string, unknown>;
    alarm.MetricName = 'OldestFailingAlertAgeSeconds';
    const findings = checkAlarmMetrics(copy, report.stack.facts, report.printed);
    expect(findings.filter((f) => !f.ok).map((f) => f.subject)).toEqual(['SquadcastOutageAlarm → OldestFailingAlertAgeSeconds']);
  });
});
