import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { allows } from '../../scripts/rehearsal/checks';
import { readTemplate } from '../../scripts/rehearsal/package';
import { REHEARSAL_STAGE } from '../../scripts/rehearsal/rehearse';
import { packagedOnce } from '../helpers/package-service';

/**
 * infra/deploy-role.yml, the role GitHub Actions deploys with, against the stack it deploys: every
 * resource type the packaged templates hold can be created, changed and deleted by it, on the
 * service's own names; it trusts one repository's environment only; it grants no wildcard action.
 */
const ROOT = join(__dirname, '..', '..');
const ROLE_TEMPLATE = join(ROOT, 'infra', 'deploy-role.yml');
const role = parse(readFileSync(ROLE_TEMPLATE, 'utf8')) as {
  Parameters: Record<string, { Default?: string }>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};
const SERVICE = role.Parameters.ServiceName?.Default ?? '';
const [REGION, ACCOUNT, STAGE] = ['us-east-1', '123456789012', 'prod'];

/** Fn::Sub resolved for an account, a region and the parameters' defaults. */
const resolve = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== 'object') return value;
  const sub = (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof sub === 'string')
    return sub
      .replaceAll('${AWS::Partition}', 'aws')
      .replaceAll('${AWS::Region}', REGION)
      .replaceAll('${AWS::AccountId}', ACCOUNT)
      .replaceAll('${ServiceName}', SERVICE);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
};
const statements = resolve(
  ((role.Resources.DeployRole?.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>).flatMap(
    (p) => p.PolicyDocument.Statement,
  ),
) as Array<{ Effect: string; Action: string | string[]; Resource: string | string[] }>;

/** What the stack's resources are named, as CloudFormation names them for the stack of stage prod. */
const stack = `${SERVICE}-${STAGE}`;
const arn = {
  stack: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stack}/0a1b2c3d-0000-4000-8000-000000000000`,
  bucket: `arn:aws:s3:::${stack}-serverlessdeploymentbuck-1a2b3c4d5e6f`,
  object: `arn:aws:s3:::${stack}-serverlessdeploymentbuck-1a2b3c4d5e6f/serverless/${SERVICE}/${STAGE}/1700000000000/ingest.zip`,
  function: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${stack}-ingest`,
  logGroup: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${stack}-ingest`,
  restApi: `arn:aws:apigateway:${REGION}::/restapis/a1b2c3d4e5/resources/x1y2z3/methods/POST`,
  queue: `arn:aws:sqs:${REGION}:${ACCOUNT}:${stack}-alerts`,
  table: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${stack}-ActivityTable-1A2B3C4D5E6F`,
  topic: `arn:aws:sns:${REGION}:${ACCOUNT}:${stack}-AlarmTopic-1A2B3C4D5E6F`,
  alarm: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${stack}-DeadLetterAlarm-1A2B3C4D5E6F`,
  dashboard: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/${stack}`,
  role: `arn:aws:iam::${ACCOUNT}:role/${stack}-IngestRole-1A2B3C4D5E6F`,
  any: '*',
};

/** What CloudFormation calls to create, update and delete each resource type the relay's stack holds, and on what. */
const NEEDED: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  'AWS::S3::Bucket': [
    ['s3:CreateBucket', arn.bucket],
    ['s3:DeleteBucket', arn.bucket],
    ['s3:PutEncryptionConfiguration', arn.bucket],
    ['s3:GetBucketLocation', arn.bucket],
  ],
  'AWS::S3::BucketPolicy': [
    ['s3:PutBucketPolicy', arn.bucket],
    ['s3:GetBucketPolicy', arn.bucket],
    ['s3:DeleteBucketPolicy', arn.bucket],
  ],
  'AWS::Logs::LogGroup': [
    ['logs:CreateLogGroup', arn.logGroup],
    ['logs:DeleteLogGroup', arn.logGroup],
    ['logs:PutRetentionPolicy', arn.logGroup],
    ['logs:DescribeLogGroups', arn.logGroup],
  ],
  'AWS::Lambda::Function': [
    ['lambda:CreateFunction', arn.function],
    ['lambda:GetFunction', arn.function],
    ['lambda:UpdateFunctionCode', arn.function],
    ['lambda:UpdateFunctionConfiguration', arn.function],
    ['lambda:PutFunctionConcurrency', arn.function],
    ['lambda:DeleteFunction', arn.function],
    ['iam:PassRole', arn.role],
  ],
  'AWS::Lambda::Permission': [
    ['lambda:AddPermission', arn.function],
    ['lambda:RemovePermission', arn.function],
  ],
  'AWS::Lambda::EventSourceMapping': [
    ['lambda:CreateEventSourceMapping', arn.any],
    ['lambda:UpdateEventSourceMapping', arn.any],
    ['lambda:DeleteEventSourceMapping', arn.any],
    ['lambda:GetEventSourceMapping', arn.any],
  ],
  'AWS::ApiGateway::RestApi': [
    ['apigateway:POST', arn.restApi],
    ['apigateway:PUT', arn.restApi],
    ['apigateway:PATCH', arn.restApi],
    ['apigateway:DELETE', arn.restApi],
    ['apigateway:UpdateRestApiPolicy', arn.restApi],
  ],
  'AWS::ApiGateway::Resource': [
    ['apigateway:POST', arn.restApi],
    ['apigateway:DELETE', arn.restApi],
  ],
  'AWS::ApiGateway::Method': [
    ['apigateway:PUT', arn.restApi],
    ['apigateway:DELETE', arn.restApi],
  ],
  'AWS::ApiGateway::Deployment': [
    ['apigateway:POST', arn.restApi],
    ['apigateway:PATCH', arn.restApi],
    ['apigateway:GET', arn.restApi],
  ],
  'AWS::SQS::Queue': [
    ['sqs:CreateQueue', arn.queue],
    ['sqs:DeleteQueue', arn.queue],
    ['sqs:GetQueueAttributes', arn.queue],
    ['sqs:SetQueueAttributes', arn.queue],
  ],
  'AWS::DynamoDB::Table': [
    ['dynamodb:CreateTable', arn.table],
    ['dynamodb:DescribeTable', arn.table],
    ['dynamodb:UpdateTable', arn.table],
    ['dynamodb:UpdateTimeToLive', arn.table],
    ['dynamodb:UpdateContinuousBackups', arn.table],
    ['dynamodb:DescribeContinuousBackups', arn.table],
  ],
  'AWS::SNS::Topic': [
    ['sns:CreateTopic', arn.topic],
    ['sns:DeleteTopic', arn.topic],
    ['sns:GetTopicAttributes', arn.topic],
  ],
  'AWS::SNS::Subscription': [
    ['sns:Subscribe', arn.topic],
    ['sns:Unsubscribe', arn.topic],
  ],
  'AWS::CloudWatch::Alarm': [
    ['cloudwatch:PutMetricAlarm', arn.alarm],
    ['cloudwatch:DeleteAlarms', arn.alarm],
    ['cloudwatch:DescribeAlarms', arn.alarm],
  ],
  'AWS::CloudWatch::Dashboard': [
    ['cloudwatch:PutDashboard', arn.dashboard],
    ['cloudwatch:DeleteDashboards', arn.dashboard],
  ],
  'AWS::IAM::Role': [
    ['iam:CreateRole', arn.role],
    ['iam:GetRole', arn.role],
    ['iam:PutRolePolicy', arn.role],
    ['iam:DeleteRolePolicy', arn.role],
    ['iam:DeleteRole', arn.role],
  ],
};

/** What osls itself calls to deploy (change sets, the artifacts) and the smoke test after it. */
const DEPLOYER: ReadonlyArray<readonly [string, string]> = [
  ['cloudformation:CreateChangeSet', arn.stack],
  ['cloudformation:ExecuteChangeSet', arn.stack],
  ['cloudformation:DescribeChangeSet', arn.stack],
  ['cloudformation:DescribeStacks', arn.stack],
  ['cloudformation:DescribeStackEvents', arn.stack],
  ['cloudformation:DescribeStackResource', arn.stack],
  ['cloudformation:ListStackResources', arn.stack],
  ['cloudformation:GetTemplate', arn.stack],
  ['cloudformation:ValidateTemplate', arn.any],
  ['s3:PutObject', arn.object],
  ['s3:ListBucket', arn.bucket],
  ['s3:DeleteObject', arn.object],
  ['lambda:InvokeFunction', arn.function],
];

describe('the deploy role (infra/deploy-role.yml)', () => {
  it('passes cfn-lint, informational findings included', () => {
    const run = spawnSync('cfn-lint', ['--include-checks', 'I', '--', ROLE_TEMPLATE], { encoding: 'utf8' });
    if (run.error !== undefined && !process.env.CI) return console.log('cfn-lint is not installed: the deploy role was not linted');
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });

  it('trusts GitHub OIDC tokens of one repository and one environment only', () => {
    const trust = role.Resources.DeployRole?.Properties.AssumeRolePolicyDocument as { Statement: Array<Record<string, unknown>> };
    expect(trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: {
          Federated: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com' },
        },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': { 'Fn::Sub': 'repo:${GitHubRepository}:environment:${GitHubEnvironment}' },
          },
        },
      },
    ]);
  });

  it('grants no wildcard action, and a resource wildcard only where IAM takes no resource', () => {
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    const anywhere = statements.filter((s) => JSON.stringify(s.Resource) === '"*"').flatMap((s) => s.Action);
    expect(anywhere.sort()).toEqual(
      [
        'cloudformation:ListExports',
        'cloudformation:ValidateTemplate',
        'lambda:CreateEventSourceMapping',
        'lambda:DeleteEventSourceMapping',
        'lambda:GetEventSourceMapping',
        'lambda:ListEventSourceMappings',
        'lambda:UpdateEventSourceMapping',
      ].sort(),
    );
  });

  it('covers every resource type of the packaged templates, on the names the stack gives them, and what osls and the smoke test call', () => {
    const { dir } = packagedOnce(REHEARSAL_STAGE);
    const types = new Set(
      [readTemplate(dir, 'create'), readTemplate(dir, 'update')].flatMap((template) =>
        Object.values(template.Resources).map((r) => r.Type),
      ),
    );
    const unknown = [...types].filter((type) => NEEDED[type] === undefined);
    // A new resource type in serverless.yml: give the deploy role what it needs, and add it to NEEDED.
    expect(unknown).toEqual([]);
    const missing = [...types, 'deployer']
      .flatMap((type) => (type === 'deployer' ? DEPLOYER : (NEEDED[type] ?? [])).map(([action, resource]) => ({ type, action, resource })))
      .filter(({ action, resource }) => !allows(statements, action, resource));
    expect(missing).toEqual([]);
    console.log(`deploy role: ${types.size} resource types of the stack covered, ${statements.length} statements, no wildcard action`);
  });

  it("is not over-broad: it cannot touch another service's function, queue, table or role", () => {
    for (const [action, resource] of [
      ['lambda:UpdateFunctionCode', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:payments-prod-api`],
      ['sqs:DeleteQueue', `arn:aws:sqs:${REGION}:${ACCOUNT}:payments-prod-orders`],
      ['dynamodb:DeleteTable', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/payments`],
      ['iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`],
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/admin`],
      ['cloudformation:DeleteStack', `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/payments-prod/x`],
    ] as const)
      expect({ action, resource, allowed: allows(statements, action, resource) }).toEqual({ action, resource, allowed: false });
  });
});
