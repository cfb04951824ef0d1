import type { PackagedTemplate, TemplateResource } from './package';

const names = require('../../infra/aws-names.js') as { s3BucketNameProblems(name: string): string[] };

/**
 * AWS rules the deploy relies on that moto does not enforce, checked on the packaged template. Each rule
 * cites where AWS (or a public report of the failure) states it, and each finding names the template path
 * it found. The rehearsal fails on any finding; tests/infra/rules.test.ts shows every rule failing on a
 * template that breaks it.
 */
export interface RuleContext {
  /** serverless.yml's service. */
  readonly service: string;
  /** The stack's name (<service>-<stage>): CloudFormation builds generated names from it. */
  readonly stackName: string;
  /** The Lambda concurrency quota of the account the stack is checked against (AWS's default is 1000). */
  readonly accountConcurrency: number;
}

export interface RuleFinding {
  readonly rule: string;
  /** Where in the template, e.g. `Resources.ApiGatewayStage.Properties.DeploymentId`. */
  readonly path: string;
  readonly problem: string;
}

export interface Rule {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  check(template: PackagedTemplate, context: RuleContext): RuleFinding[];
}

type Entry = readonly [string, TemplateResource];
const ofType = (template: PackagedTemplate, type: string): Entry[] => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const propsOf = (resource: TemplateResource): Record<string, unknown> => resource.Properties ?? {};
const refOf = (value: unknown): string | undefined =>
  value !== null && typeof value === 'object' && typeof (value as { Ref?: unknown }).Ref === 'string'
    ? (value as { Ref: string }).Ref
    : undefined;
/** The logical id a value names: Ref, Fn::GetAtt [id, …] or Fn::Sub "${id.Attr}". */
const logicalIdIn = (value: unknown): string | undefined => {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  if (Array.isArray(v['Fn::GetAtt'])) return String(v['Fn::GetAtt'][0]);
  if (typeof v['Fn::Sub'] === 'string') return /^\$\{([A-Za-z0-9]+)[.}]/.exec(v['Fn::Sub'])?.[1];
  return undefined;
};

/** Properties that give a resource a fixed physical name, by type (names unique in an account and region). */
const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::Events::Rule': 'Name',
};

/**
 * The longest name of each type whose generated name CloudFormation's service role matches by the
 * service's prefix (IAM roles are matched by their path instead). From each service's API reference.
 */
const GENERATED_NAME_LIMIT: Readonly<Record<string, number>> = {
  'AWS::Events::Rule': 64,
  'AWS::SNS::Topic': 256,
  'AWS::CloudWatch::Alarm': 255,
  'AWS::DynamoDB::Table': 255,
  'AWS::Logs::LogGroup': 512,
};

export const RULES: readonly Rule[] = [
  {
    id: 'deployment-bucket-name',
    title: "The deployment bucket's name is one S3 accepts",
    source: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html',
    check: (template) =>
      ofType(template, 'AWS::Lambda::Function').flatMap(([id, fn]) => {
        const bucket = (propsOf(fn).Code as { S3Bucket?: unknown } | undefined)?.S3Bucket;
        if (typeof bucket !== 'string') return [];
        return names.s3BucketNameProblems(bucket).map((problem) => ({
          rule: 'deployment-bucket-name',
          path: `Resources.${id}.Properties.Code.S3Bucket`,
          problem: `${bucket} ${problem}`,
        }));
      }),
  },
  {
    id: 'deployment-stage-description',
    title:
      "No StageDescription on osls's Deployment: its logical id changes every package, and CloudFormation refuses a new Deployment that describes a stage that exists",
    source:
      'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-apigateway-deployment-stagedescription.html; https://github.com/jacob-meacham/serverless-plugin-bind-deployment-id#known-issues ("StageDescription cannot be specified when stage referenced by StageName already exists")',
    check: (template) =>
      ofType(template, 'AWS::ApiGateway::Deployment')
        .filter(([, d]) => propsOf(d).StageDescription !== undefined)
        .map(([id]) => ({
          rule: 'deployment-stage-description',
          path: `Resources.${id}.Properties.StageDescription`,
          problem: 'every deploy after the first would fail and roll back',
        })),
  },
  {
    id: 'stage-owned-once',
    title: 'A stage is created by one resource only, and follows the current Deployment',
    source:
      'https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html (ConflictException); https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteDeployment.html (a deployment with a stage cannot be deleted)',
    check: (template) => {
      const deployments = ofType(template, 'AWS::ApiGateway::Deployment');
      return ofType(template, 'AWS::ApiGateway::Stage').flatMap(([id, stage]) => {
        const { StageName: name, DeploymentId: deploymentId } = propsOf(stage);
        const findings: RuleFinding[] = deployments
          .filter(([, d]) => propsOf(d).StageName === name)
          .map(([deploymentIdOf]) => ({
            rule: 'stage-owned-once',
            path: `Resources.${deploymentIdOf}.Properties.StageName`,
            problem: `the Deployment creates stage ${String(name)}, which ${id} creates too: the first deploy fails ("already exists")`,
          }));
        const target = refOf(deploymentId);
        if (target === undefined || !deployments.some(([d]) => d === target))
          findings.push({
            rule: 'stage-owned-once',
            path: `Resources.${id}.Properties.DeploymentId`,
            problem: "must Ref the template's Deployment, or the stage stays on one CloudFormation then cannot delete",
          });
        return findings;
      });
    },
  },
  {
    id: 'retained-fixed-name',
    title: 'Nothing the stack keeps after a delete has a fixed name: the next create of the stage would fail with "already exists"',
    source:
      'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html; https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html',
    check: (template) =>
      Object.entries(template.Resources).flatMap(([id, resource]) => {
        const kept = ['Retain', 'RetainExceptOnCreate', 'Snapshot'].includes(String(resource.DeletionPolicy ?? ''));
        const nameProperty = NAME_PROPERTY[resource.Type];
        if (!kept || nameProperty === undefined || propsOf(resource)[nameProperty] === undefined) return [];
        return [
          {
            rule: 'retained-fixed-name',
            path: `Resources.${id}.Properties.${nameProperty}`,
            problem: `kept (DeletionPolicy ${String(resource.DeletionPolicy)}) under a fixed name: after a removal or a failed first deploy, the next create finds it`,
          },
        ];
      }),
  },
  {
    id: 'reserved-concurrency-quota',
    title: 'Reserved concurrency leaves the 100 unreserved executions Lambda keeps in every account',
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html',
    check: (template, context) => {
      const reserving = ofType(template, 'AWS::Lambda::Function').filter(
        ([, fn]) => propsOf(fn).ReservedConcurrentExecutions !== undefined,
      );
      const total = reserving.reduce((sum, [, fn]) => sum + Number(propsOf(fn).ReservedConcurrentExecutions), 0);
      if (total <= context.accountConcurrency - 100) return [];
      return reserving.map(([id]) => ({
        rule: 'reserved-concurrency-quota',
        path: `Resources.${id}.Properties.ReservedConcurrentExecutions`,
        problem: `${total} reserved in an account whose quota is ${context.accountConcurrency}: at most ${context.accountConcurrency - 100} can be (params deliverReservedConcurrency, or a quota increase)`,
      }));
    },
  },
  {
    id: 'reserved-vs-mapping',
    title: "A function's reserved concurrency is at least its SQS mapping's maximum concurrency, or the mapping is throttled",
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html',
    check: (template) =>
      ofType(template, 'AWS::Lambda::EventSourceMapping').flatMap(([id, mapping]) => {
        const maximum = (propsOf(mapping).ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency;
        const fnId = logicalIdIn(propsOf(mapping).FunctionName);
        const reserved = fnId === undefined ? undefined : template.Resources[fnId]?.Properties?.ReservedConcurrentExecutions;
        if (maximum === undefined || reserved === undefined || Number(reserved) >= maximum) return [];
        return [
          {
            rule: 'reserved-vs-mapping',
            path: `Resources.${fnId}.Properties.ReservedConcurrentExecutions`,
            problem: `${String(reserved)} is below ${id}'s MaximumConcurrency ${maximum}`,
          },
        ];
      }),
  },
  {
    id: 'queue-visibility-six-times',
    title: "A queue that feeds a function has a visibility timeout of at least six times the function's timeout",
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html',
    check: (template) =>
      ofType(template, 'AWS::Lambda::EventSourceMapping').flatMap(([, mapping]) => {
        const queueId = logicalIdIn(propsOf(mapping).EventSourceArn);
        const fnId = logicalIdIn(propsOf(mapping).FunctionName);
        const queue = queueId === undefined ? undefined : template.Resources[queueId];
        const fn = fnId === undefined ? undefined : template.Resources[fnId];
        if (queue === undefined || fn === undefined) return [];
        const visibility = Number(propsOf(queue).VisibilityTimeout ?? 30);
        const timeout = Number(propsOf(fn).Timeout ?? 3);
        if (visibility >= 6 * timeout) return [];
        return [
          {
            rule: 'queue-visibility-six-times',
            path: `Resources.${queueId}.Properties.VisibilityTimeout`,
            problem: `${visibility} s is below 6 x ${fnId}'s ${timeout} s`,
          },
        ];
      }),
  },
  {
    id: 'dead-letter-retention',
    title: 'A dead-letter queue keeps messages at least as long as its source: a moved message keeps its first enqueue time',
    source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html',
    check: (template) =>
      ofType(template, 'AWS::SQS::Queue').flatMap(([id, queue]) => {
        const redrive = propsOf(queue).RedrivePolicy as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
        const dlqId = logicalIdIn(redrive?.deadLetterTargetArn);
        const dlq = dlqId === undefined ? undefined : template.Resources[dlqId];
        const findings: RuleFinding[] = [];
        const count = Number(redrive?.maxReceiveCount);
        if (redrive !== undefined && !(Number.isInteger(count) && count >= 1 && count <= 1000))
          findings.push({
            rule: 'dead-letter-retention',
            path: `Resources.${id}.Properties.RedrivePolicy.maxReceiveCount`,
            problem: 'must be 1 to 1000',
          });
        if (dlq !== undefined) {
          const retention = (q: TemplateResource) => Number(propsOf(q).MessageRetentionPeriod ?? 345_600);
          if (retention(dlq) < retention(queue))
            findings.push({
              rule: 'dead-letter-retention',
              path: `Resources.${dlqId}.Properties.MessageRetentionPeriod`,
              problem: `${retention(dlq)} s is shorter than ${id}'s ${retention(queue)} s`,
            });
        }
        return findings;
      }),
  },
  {
    id: 'role-boundary',
    title:
      "Every role the stack creates is on the service's IAM path, carries infra/bootstrap.yml's boundary and no managed policy: the only roles CloudFormation's service role may create",
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html; infra/bootstrap.yml (CloudFormationRole)',
    check: (template, context) =>
      ofType(template, 'AWS::IAM::Role').flatMap(([id, role]) => {
        const p = propsOf(role);
        const findings: RuleFinding[] = [];
        // infra/bootstrap.yml's FunctionBoundary: policy/<service>/<service>-<region>-boundary in the stack's account.
        const boundary = JSON.stringify(p.PermissionsBoundary ?? '');
        const expected = `:policy/${context.service}/${context.service}-`;
        if (!boundary.includes(expected) || !boundary.includes('-boundary'))
          findings.push({
            rule: 'role-boundary',
            path: `Resources.${id}.Properties.PermissionsBoundary`,
            problem: `must be infra/bootstrap.yml's FunctionBoundary (…${expected}<region>-boundary)`,
          });
        if (p.Path !== `/${context.service}/`)
          findings.push({ rule: 'role-boundary', path: `Resources.${id}.Properties.Path`, problem: `must be /${context.service}/` });
        if (p.ManagedPolicyArns !== undefined)
          findings.push({
            rule: 'role-boundary',
            path: `Resources.${id}.Properties.ManagedPolicyArns`,
            problem: 'the service role may not attach managed policies',
          });
        return findings;
      }),
  },
  {
    id: 'name-lengths',
    title: 'Names within their service limits: a function name at most 64 characters, a queue name at most 80 of letters, digits, - and _',
    source:
      'https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html; https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html',
    check: (template) => [
      ...ofType(template, 'AWS::Lambda::Function').flatMap(([id, fn]) => {
        const name = propsOf(fn).FunctionName;
        return typeof name === 'string' && name.length > 64
          ? [{ rule: 'name-lengths', path: `Resources.${id}.Properties.FunctionName`, problem: `${name.length} characters` }]
          : [];
      }),
      ...ofType(template, 'AWS::SQS::Queue').flatMap(([id, queue]) => {
        const name = propsOf(queue).QueueName;
        return typeof name === 'string' && !/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name)
          ? [{ rule: 'name-lengths', path: `Resources.${id}.Properties.QueueName`, problem: `${name} is not a queue name SQS accepts` }]
          : [];
      }),
    ],
  },
  {
    id: 'generated-names-keep-prefix',
    title:
      "A generated name (<stack>-<logical id>-<13 random characters>) fits its type's limit whole: one that does not is cut, the stack's name with it, and no longer matches the <service>-* that CloudFormation's service role may touch",
    source:
      'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html; the cut shows in public reports, e.g. a bucket lambda-info-http-endpoin-serverlessdeploymentbuck-2u8uz2i7cap2',
    check: (template, context) =>
      Object.entries(template.Resources).flatMap(([id, resource]) => {
        const limit = GENERATED_NAME_LIMIT[resource.Type];
        const nameProperty = NAME_PROPERTY[resource.Type];
        if (limit === undefined || (nameProperty !== undefined && propsOf(resource)[nameProperty] !== undefined)) return [];
        const length = `${context.stackName}-${id}-`.length + 13;
        return length <= limit
          ? []
          : [
              {
                rule: 'generated-names-keep-prefix',
                path: `Resources.${id}`,
                problem: `a generated name would be ${length} characters (at most ${limit}): name it, or shorten the logical id`,
              },
            ];
      }),
  },
  {
    id: 'alarm-evaluation-range',
    title: "An alarm's Period x EvaluationPeriods is at most one day (a period under an hour) or seven days",
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html (Period)',
    check: (template) =>
      ofType(template, 'AWS::CloudWatch::Alarm').flatMap(([id, alarm]) => {
        const p = propsOf(alarm);
        const periods = [
          Number(p.Period ?? 0),
          ...((p.Metrics ?? []) as Array<{ MetricStat?: { Period?: number } }>).map((m) => Number(m.MetricStat?.Period ?? 0)),
        ].filter((n) => n > 0);
        const period = Math.max(...periods, 0);
        const range = period * Number(p.EvaluationPeriods ?? 1);
        const limit = period < 3600 ? 86_400 : 604_800;
        return range > limit
          ? [
              {
                rule: 'alarm-evaluation-range',
                path: `Resources.${id}.Properties.EvaluationPeriods`,
                problem: `${range} s evaluated; at most ${limit} s`,
              },
            ]
          : [];
      }),
  },
];

/** Every rule against the template: the findings, each with its rule and template path. */
export const checkRules = (template: PackagedTemplate, context: RuleContext): RuleFinding[] =>
  RULES.flatMap((rule) => rule.check(template, context));
