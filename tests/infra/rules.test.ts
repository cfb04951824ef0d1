import type { PackagedTemplate } from '../../scripts/rehearsal/package';
import type { RuleContext } from '../../scripts/rehearsal/rules';
import { checkRules, RULES } from '../../scripts/rehearsal/rules';
import { packagedOnce } from '../helpers/package-service';

/**
 * The AWS rules moto does not enforce (scripts/rehearsal/rules.ts): none is broken by the packaged
 * template, and each one finds a template that breaks it, naming the template path.
 */
const CONTEXT: RuleContext = {
  service: 'threatstack-squadcast-relay',
  stackName: 'threatstack-squadcast-relay-ci',
  accountConcurrency: 1000,
};

type Mutation = (t: { Resources: Record<string, { Properties: Record<string, unknown>; DeletionPolicy?: string }> }) => void;

const deploymentId = (template: PackagedTemplate): string =>
  Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::ApiGateway::Deployment')?.[0] ?? '';

describe('AWS rules the rehearsal checks (scripts/rehearsal/rules.ts)', () => {
  let template: PackagedTemplate;
  beforeAll(() => {
    template = packagedOnce('ci').template;
  }, 240_000);

  const broken = (mutate: Mutation): PackagedTemplate => {
    const copy = JSON.parse(JSON.stringify(template)) as PackagedTemplate;
    mutate(copy as unknown as Parameters<Mutation>[0]);
    return copy;
  };

  it('finds nothing in the packaged template', () => {
    expect(checkRules(template, CONTEXT)).toEqual([]);
    console.log(
      ['AWS rules checked on the packaged template (each with its source):', ...RULES.map((r) => `  ${r.id}: ${r.source}`)].join('\n'),
    );
  });

  const CASES: ReadonlyArray<readonly [string, (t: PackagedTemplate) => Mutation, string, RuleContext]> = [
    [
      'deployment-bucket-name',
      () => (t) => Object.assign(t.Resources.IngestLambdaFunction?.Properties.Code as object, { S3Bucket: `${'a'.repeat(60)}-deploys` }),
      'Resources.IngestLambdaFunction.Properties.Code.S3Bucket',
      CONTEXT,
    ],
    [
      'deployment-stage-description',
      (tpl) => (t) => Object.assign(t.Resources[deploymentId(tpl)]?.Properties ?? {}, { StageDescription: { ThrottlingRateLimit: 50 } }),
      'StageDescription',
      CONTEXT,
    ],
    [
      'stage-owned-once',
      (tpl) => (t) => Object.assign(t.Resources[deploymentId(tpl)]?.Properties ?? {}, { StageName: 'ci' }),
      'Properties.StageName',
      CONTEXT,
    ],
    [
      'stage-owned-once',
      () => (t) => Object.assign(t.Resources.ApiGatewayStage?.Properties ?? {}, { DeploymentId: { Ref: 'ApiGatewayDeployment1' } }),
      'Resources.ApiGatewayStage.Properties.DeploymentId',
      CONTEXT,
    ],
    [
      'retained-fixed-name',
      () => (t) =>
        Object.assign(t.Resources.OperationsLogGroup?.Properties ?? {}, { LogGroupName: '/threatstack-squadcast-relay/ci/operations' }),
      'Resources.OperationsLogGroup.Properties.LogGroupName',
      CONTEXT,
    ],
    [
      'reserved-concurrency-quota',
      () => () => undefined,
      'Resources.DeliverLambdaFunction.Properties.ReservedConcurrentExecutions',
      { ...CONTEXT, accountConcurrency: 10 },
    ],
    [
      'reserved-vs-mapping',
      () => (t) => Object.assign(t.Resources.DeliverLambdaFunction?.Properties ?? {}, { ReservedConcurrentExecutions: 1 }),
      'Resources.DeliverLambdaFunction.Properties.ReservedConcurrentExecutions',
      CONTEXT,
    ],
    [
      'queue-visibility-six-times',
      () => (t) => Object.assign(t.Resources.AlertsQueue?.Properties ?? {}, { VisibilityTimeout: 60 }),
      'Resources.AlertsQueue.Properties.VisibilityTimeout',
      CONTEXT,
    ],
    [
      'dead-letter-retention',
      () => (t) => Object.assign(t.Resources.DeadLetterQueue?.Properties ?? {}, { MessageRetentionPeriod: 86_400 }),
      'Resources.DeadLetterQueue.Properties.MessageRetentionPeriod',
      CONTEXT,
    ],
    [
      'role-boundary',
      () => (t) => delete t.Resources.IngestRole?.Properties.PermissionsBoundary,
      'Resources.IngestRole.Properties.PermissionsBoundary',
      CONTEXT,
    ],
    [
      'name-lengths',
      () => (t) => Object.assign(t.Resources.IngestLambdaFunction?.Properties ?? {}, { FunctionName: 'f'.repeat(65) }),
      'Resources.IngestLambdaFunction.Properties.FunctionName',
      CONTEXT,
    ],
    [
      'generated-names-keep-prefix',
      () => (t) => delete t.Resources.DeadLetterWatchEventsRuleSchedule1?.Properties.Name,
      'Resources.DeadLetterWatchEventsRuleSchedule1',
      CONTEXT,
    ],
    [
      'alarm-evaluation-range',
      () => (t) => Object.assign(t.Resources.SquadcastOutageAlarm?.Properties ?? {}, { EvaluationPeriods: 1441 }),
      'Resources.SquadcastOutageAlarm.Properties.EvaluationPeriods',
      CONTEXT,
    ],
  ];

  it.each(CASES)('%s finds a template that breaks it, with the path', (rule, mutation, path, context) => {
    const findings = checkRules(broken(mutation(template)), context);
    expect(findings.map((f) => f.rule)).toEqual(expect.arrayContaining([rule]));
    expect(findings.filter((f) => f.rule === rule).some((f) => f.path.includes(path))).toBe(true);
    expect(findings.filter((f) => f.rule !== rule)).toEqual([]);
  });

  it('has a breaking case for every rule', () => {
    expect(new Set(CASES.map(([rule]) => rule))).toEqual(new Set(RULES.map((r) => r.id)));
  });
});
