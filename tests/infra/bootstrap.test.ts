import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bootstrap } from '../../scripts/rehearsal/bootstrap';
import { BOOTSTRAP_TEMPLATE, bootstrapFor } from '../../scripts/rehearsal/bootstrap';
import type { PolicyDocument, Principal, Request, Verdict } from '../../scripts/rehearsal/iam';
import { actionsNamedBy, evaluate, policyProblems, resourceFormats } from '../../scripts/rehearsal/iam';
import { resolveIntrinsics } from '../../scripts/rehearsal/intrinsics';
import type { PackagedTemplate, TemplateResource } from '../../scripts/rehearsal/package';
import { PROJECT_ROOT } from '../../scripts/rehearsal/package';
import { REHEARSAL_STAGE } from '../../scripts/rehearsal/rehearse';
import { packagedOnce } from '../helpers/package-service';

/**
 * infra/bootstrap.yml, evaluated with an IAM policy evaluator (@cloud-copilot/iam-simulate) against the
 * packaged stack: CloudFormation's service role can run every handler of every resource type the stack
 * holds (infra/cloudformation-handlers.json), the GitHub role can only drive the stack through it, no
 * path escalates past the permissions boundary, and every action and ARN is one AWS's data knows.
 */
const names = require('../../infra/aws-names.js') as {
  REGIONS: readonly string[];
  s3BucketNameProblems(name: string): string[];
  deploymentBucketName(service: string, account: string, region: string): string;
};

interface HandlerData {
  readonly types: Record<
    string,
    {
      readonly source: string;
      readonly handlers: Record<string, readonly string[]>;
      readonly supplements?: ReadonlyArray<{
        readonly handlers: readonly string[];
        readonly permissions: readonly string[];
        readonly source: string;
      }>;
      readonly notGranted?: ReadonlyArray<{
        readonly permissions: readonly string[];
        readonly onlyWith?: readonly string[];
        readonly onlyWithout?: readonly string[];
        readonly because: string;
      }>;
    }
  >;
}
const HANDLERS = JSON.parse(readFileSync(join(PROJECT_ROOT, 'infra', 'cloudformation-handlers.json'), 'utf8')) as HandlerData;

const [ACCOUNT, REGION, STAGE] = ['123456789012', 'us-east-1', 'prod'];
const bootstrap: Bootstrap = bootstrapFor({ account: ACCOUNT, region: REGION });
const SERVICE = bootstrap.service;
const stack = `${SERVICE}-${STAGE}`;
const REGION_API = `arn:aws:apigateway:${REGION}::`;
const arn = {
  stack: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stack}/0a1b2c3d-0000-4000-8000-000000000000`,
  otherStack: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/payments-prod/0a1b2c3d-0000-4000-8000-000000000000`,
  object: `${bootstrap.bucket.arn}/serverless/${SERVICE}/${STAGE}/1700000000000-2026-12-06T00:00:00.000Z/ingest.zip`,
  function: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${stack}-ingest`,
  deliver: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${stack}-deliver`,
  mapping: `arn:aws:lambda:${REGION}:${ACCOUNT}:event-source-mapping:0a1b2c3d-0000-4000-8000-000000000000`,
  logGroup: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${stack}-ingest`,
  operationsLog: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${stack}-OperationsLogGroup-1A2B3C4D5E6F`,
  api: `arn:aws:apigateway:${REGION}::/restapis/a1b2c3d4e5`,
  queue: `arn:aws:sqs:${REGION}:${ACCOUNT}:${stack}-alerts`,
  table: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${stack}-ActivityTable-1A2B3C4D5E6F`,
  key: `arn:aws:kms:${REGION}:${ACCOUNT}:key/0a1b2c3d-0000-4000-8000-000000000000`,
  topic: `arn:aws:sns:${REGION}:${ACCOUNT}:${stack}-AlarmTopic-1A2B3C4D5E6F`,
  subscription: `arn:aws:sns:${REGION}:${ACCOUNT}:${stack}-AlarmTopic-1A2B3C4D5E6F:0a1b2c3d-0000-4000-8000-000000000000`,
  alarm: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${stack}-DeadLetterAlarm-1A2B3C4D5E6F`,
  dashboard: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/${stack}`,
  rule: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${stack}-deadLetterWatch-rule-1`,
  functionRole: `arn:aws:iam::${ACCOUNT}:role/${SERVICE}/${stack}-IngestRole-1A2B3C4D5E6F`,
  parameter: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${SERVICE}/${STAGE}/squadcast-webhook-url`,
};

/** The ARN of a resource of the stack, for the formats of an action: the first candidate that fits, else the format filled in. */
const arnFor = async (action: string, candidates: readonly string[]): Promise<string> => {
  const formats = await resourceFormats(action);
  if (formats.length === 0) return '*';
  const { resourceStringMatchesResourceTypePattern } = await import('@cloud-copilot/iam-utils');
  const fitting = candidates.find((candidate) => formats.some((format) => resourceStringMatchesResourceTypePattern(candidate, format)));
  if (fitting !== undefined) return fitting;
  const [format = ''] = formats;
  return format
    .replace('${Partition}', 'aws')
    .replace('${Region}', REGION)
    .replace('${Account}', ACCOUNT)
    .replace(/\$\{[A-Za-z]+\}/g, `${stack}-example`);
};

/** What a handler of `type` names when it calls `action`, and the request context CloudFormation's call carries. */
const requestOf = async (type: string, action: string): Promise<Request> => {
  const service = action.split(':')[0] ?? '';
  const ownService = type.split('::')[1]?.toLowerCase();
  const context: Record<string, string> = {};
  if (service === 'kms')
    Object.assign(context, { 'kms:ViaService': `${ownService}.${REGION}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT });
  if (service === 'lambda' && type === 'AWS::Lambda::EventSourceMapping') context['lambda:FunctionArn'] = arn.deliver;
  if (action === 'iam:PassRole') context['iam:PassedToService'] = 'lambda.amazonaws.com';
  if (type === 'AWS::IAM::Role') context['iam:PermissionsBoundary'] = bootstrap.boundary.arn;
  const own: Record<string, readonly string[]> = {
    'AWS::ApiGateway::RestApi': [`${REGION_API}/restapis`, arn.api],
    'AWS::ApiGateway::Resource': [`${arn.api}/resources`, `${arn.api}/resources/x1y2z3`],
    'AWS::ApiGateway::Method': [`${arn.api}/resources/x1y2z3/methods/POST`],
    'AWS::ApiGateway::Deployment': [`${arn.api}/deployments`, `${arn.api}/deployments/d1e2f3`],
    'AWS::ApiGateway::Stage': [`${arn.api}/stages`, `${arn.api}/stages/${STAGE}`],
    'AWS::Lambda::EventSourceMapping': [arn.mapping],
    'AWS::Logs::LogGroup': [arn.logGroup, arn.operationsLog],
    'AWS::SNS::Subscription': [arn.subscription, arn.topic],
  };
  const candidates = [
    ...(own[type] ?? []),
    arn.function,
    arn.functionRole,
    arn.object,
    arn.key,
    arn.logGroup,
    arn.queue,
    arn.table,
    arn.topic,
    arn.alarm,
    arn.dashboard,
    arn.rule,
    arn.api,
  ];
  const resource = await arnFor(action, candidates);
  // An AWS managed key's own policy lets the account use it through its service (aws/dynamodb's, for the ledger).
  // https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-cmk
  return service === 'kms'
    ? { action, resource, context, resourcePolicy: awsManagedKeyPolicy(ownService ?? '') }
    : { action, resource, context };
};

/** The key policy AWS gives an AWS managed key (aws/<service>), as the KMS console shows it. */
const awsManagedKeyPolicy = (service: string): PolicyDocument =>
  ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ThroughTheService',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': `${service}.${REGION}.amazonaws.com` } },
      },
      {
        Sid: 'KeyMetadata',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
        Resource: '*',
      },
    ],
  }) as unknown as PolicyDocument;

/** Whether a resource's properties hold the (dotted) path. */
const has = (properties: unknown, path: string): boolean => {
  let value: unknown = properties;
  for (const key of path.split('.')) {
    if (Array.isArray(value)) return value.some((item) => has(item, path.slice(path.indexOf(key))));
    if (value === null || typeof value !== 'object' || !(key in value)) return false;
    value = (value as Record<string, unknown>)[key];
  }
  return true;
};

const typesOf = (templates: readonly PackagedTemplate[]): Map<string, TemplateResource[]> => {
  const byType = new Map<string, TemplateResource[]>();
  for (const resource of templates.flatMap((t) => Object.values(t.Resources)))
    byType.set(resource.Type, [...(byType.get(resource.Type) ?? []), resource]);
  return byType;
};

const verdictOf = async (principal: Principal, request: Request): Promise<Verdict> => evaluate(principal, request);

describe('the deploy bootstrap (infra/bootstrap.yml)', () => {
  let template: PackagedTemplate;
  /** Both packaged stages: ci (no alarm e-mail) and rehearsal (with one, so an SNS subscription). */
  let templates: PackagedTemplate[];
  beforeAll(() => {
    template = packagedOnce('ci').template;
    templates = [template, packagedOnce(REHEARSAL_STAGE).template];
  }, 240_000);

  it('passes cfn-lint, informational findings included', () => {
    const run = spawnSync('cfn-lint', ['--include-checks', 'I', '--', BOOTSTRAP_TEMPLATE], { encoding: 'utf8' });
    if (run.error !== undefined && !process.env.CI) return console.log('cfn-lint is not installed: the bootstrap was not linted');
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });

  it("names the deployment bucket within S3's rules in every supported region, as serverless.yml does", () => {
    const longest = [...names.REGIONS].sort((a, b) => b.length - a.length)[0] ?? '';
    for (const region of names.REGIONS) {
      const name = names.deploymentBucketName(SERVICE, ACCOUNT, region);
      expect({ region, name, problems: names.s3BucketNameProblems(name) }).toEqual({ region, name, problems: [] });
      expect(bootstrapFor({ account: ACCOUNT, region }).bucket.name).toBe(name);
    }
    console.log(
      `deployment bucket: ${names.REGIONS.length} regions, longest name ${names.deploymentBucketName(SERVICE, ACCOUNT, longest).length} characters (${longest}); S3 allows 63`,
    );
    // The packaged template reads its code from that bucket.
    const code = template.Resources.IngestLambdaFunction?.Properties?.Code as { S3Bucket: string };
    expect(code.S3Bucket).toBe(names.deploymentBucketName(SERVICE, ACCOUNT, REGION));
  });

  it.each<[string, string]>([
    [`${'a'.repeat(64)}`, 'is 64 characters long; S3 allows 3 to 63'],
    ['Relay-Deploys', 'may hold only lowercase letters, digits, dots and hyphens'],
    ['relay-', 'must begin and end with a letter or a digit'],
    ['relay..deploys', 'must not hold two dots in a row'],
    ['192.168.5.4', 'must not look like an IP address'],
    ['xn--relay', 'must not begin with xn--'],
    ['relay-s3alias', 'must not end with -s3alias'],
  ])("S3's rules refuse %s", (name, problem) => {
    expect(names.s3BucketNameProblems(name)).toContain(problem);
  });

  it("lets CloudFormation's service role run every handler of every resource type in the packaged template", async () => {
    const byType = typesOf(templates);
    const unknown = [...byType.keys()].filter((type) => HANDLERS.types[type] === undefined);
    // A new resource type in serverless.yml: add its handler permissions (with their source) to infra/cloudformation-handlers.json.
    expect(unknown).toEqual([]);
    const denied: string[] = [];
    const lines: string[] = [];
    for (const [type, resources] of byType) {
      const data = HANDLERS.types[type];
      if (data === undefined) continue;
      const listed = new Set([...Object.values(data.handlers).flat(), ...(data.supplements ?? []).flatMap((s) => s.permissions)]);
      const excluded = new Map((data.notGranted ?? []).flatMap((n) => n.permissions.map((p) => [p, n] as const)));
      for (const exclusion of data.notGranted ?? [])
        for (const resource of resources) {
          const needs = (exclusion.onlyWith ?? []).filter((path) => has(resource.Properties, path));
          const lacks = (exclusion.onlyWithout ?? []).filter((path) => !has(resource.Properties, path));
          // The template uses a feature whose permissions the role leaves out: grant them, or drop the feature.
          expect({ type, needs, lacks }).toEqual({ type, needs: [], lacks: [] });
        }
      let granted = 0;
      for (const permission of listed) {
        if (excluded.has(permission)) continue;
        const request = await requestOf(type, permission);
        const verdict = await verdictOf(bootstrap.cloudFormationRole, request);
        if (verdict === 'Allowed') granted += 1;
        else denied.push(`${type} needs ${permission} on ${request.resource}: ${verdict}`);
      }
      lines.push(
        `  ${type.padEnd(34)} ${granted} granted, ${listed.size - granted - denied.filter((d) => d.startsWith(`${type} `)).length} left out (notGranted)`,
      );
    }
    expect(denied).toEqual([]);
    console.log(['CloudFormation service role against the handler permissions of the packaged stack:', ...lines].join('\n'));
  }, 120_000);

  /** Every escalation path of issue 24, with the verdict that must hold. */
  const PATHS: ReadonlyArray<readonly [string, () => Principal, Request, Verdict]> = [
    // The GitHub deploy role, on its own.
    [
      'github: create a role',
      () => bootstrap.gitHubRole,
      { action: 'iam:CreateRole', resource: `arn:aws:iam::${ACCOUNT}:role/${SERVICE}/escalate` },
      'ExplicitlyDenied',
    ],
    [
      'github: put a policy on a function role',
      () => bootstrap.gitHubRole,
      { action: 'iam:PutRolePolicy', resource: arn.functionRole },
      'ExplicitlyDenied',
    ],
    [
      'github: attach AdministratorAccess to a function role',
      () => bootstrap.gitHubRole,
      {
        action: 'iam:AttachRolePolicy',
        resource: arn.functionRole,
        context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' },
      },
      'ExplicitlyDenied',
    ],
    [
      'github: pass a function role to Lambda',
      () => bootstrap.gitHubRole,
      { action: 'iam:PassRole', resource: arn.functionRole, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      'ImplicitlyDenied',
    ],
    [
      'github: pass the CloudFormation role to Lambda',
      () => bootstrap.gitHubRole,
      { action: 'iam:PassRole', resource: bootstrap.cloudFormationRole.arn, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      'ImplicitlyDenied',
    ],
    [
      'github: create a function',
      () => bootstrap.gitHubRole,
      { action: 'lambda:CreateFunction', resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${stack}-escalate` },
      'ExplicitlyDenied',
    ],
    [
      'github: rewrite ingest',
      () => bootstrap.gitHubRole,
      { action: 'lambda:UpdateFunctionCode', resource: arn.function },
      'ExplicitlyDenied',
    ],
    [
      "github: change deliver's configuration",
      () => bootstrap.gitHubRole,
      { action: 'lambda:UpdateFunctionConfiguration', resource: arn.deliver },
      'ExplicitlyDenied',
    ],
    [
      'github: read the Squadcast URL',
      () => bootstrap.gitHubRole,
      { action: 'ssm:GetParameter', resource: arn.parameter },
      'ExplicitlyDenied',
    ],
    [
      'github: change the stack with its own permissions',
      () => bootstrap.gitHubRole,
      { action: 'cloudformation:CreateChangeSet', resource: arn.stack },
      'ImplicitlyDenied',
    ],
    [
      'github: change the stack with another role',
      () => bootstrap.gitHubRole,
      {
        action: 'cloudformation:CreateChangeSet',
        resource: arn.stack,
        context: { 'cloudformation:RoleArn': `arn:aws:iam::${ACCOUNT}:role/admin` },
      },
      'ImplicitlyDenied',
    ],
    [
      'github: change another stack through the service role',
      () => bootstrap.gitHubRole,
      {
        action: 'cloudformation:CreateChangeSet',
        resource: arn.otherStack,
        context: { 'cloudformation:RoleArn': bootstrap.cloudFormationRole.arn },
      },
      'ImplicitlyDenied',
    ],
    // What it must be able to do.
    [
      'github: change the relay stack through the service role',
      () => bootstrap.gitHubRole,
      {
        action: 'cloudformation:CreateChangeSet',
        resource: arn.stack,
        context: { 'cloudformation:RoleArn': bootstrap.cloudFormationRole.arn },
      },
      'Allowed',
    ],
    [
      'github: recover a failed rollback through the service role',
      () => bootstrap.gitHubRole,
      {
        action: 'cloudformation:ContinueUpdateRollback',
        resource: arn.stack,
        context: { 'cloudformation:RoleArn': bootstrap.cloudFormationRole.arn },
      },
      'Allowed',
    ],
    [
      'github: pass the service role to CloudFormation',
      () => bootstrap.gitHubRole,
      {
        action: 'iam:PassRole',
        resource: bootstrap.cloudFormationRole.arn,
        context: { 'iam:PassedToService': 'cloudformation.amazonaws.com' },
      },
      'Allowed',
    ],
    // What npm run preflight and npm run smoke call with it.
    [
      'github: read the Lambda quota (preflight)',
      () => bootstrap.gitHubRole,
      { action: 'lambda:GetAccountSettings', resource: '*' },
      'Allowed',
    ],
    [
      'github: find the deployment bucket (preflight)',
      () => bootstrap.gitHubRole,
      { action: 's3:ListBucket', resource: bootstrap.bucket.arn },
      'Allowed',
    ],
    [
      "github: read deliver's reservation (preflight)",
      () => bootstrap.gitHubRole,
      { action: 'lambda:GetFunction', resource: arn.deliver },
      'Allowed',
    ],
    [
      'github: read the stack (preflight, smoke)',
      () => bootstrap.gitHubRole,
      { action: 'cloudformation:DescribeStacks', resource: arn.stack },
      'Allowed',
    ],
    [
      'github: invoke ingest with a wrong token (smoke)',
      () => bootstrap.gitHubRole,
      { action: 'lambda:InvokeFunction', resource: arn.function },
      'Allowed',
    ],
    [
      'github: invoke deliver with no record (smoke)',
      () => bootstrap.gitHubRole,
      { action: 'lambda:InvokeFunction', resource: arn.deliver },
      'Allowed',
    ],
    [
      'github: list the alarm subscriptions (smoke)',
      () => bootstrap.gitHubRole,
      { action: 'sns:ListSubscriptionsByTopic', resource: arn.topic },
      'Allowed',
    ],
    [
      "github: invoke another service's function",
      () => bootstrap.gitHubRole,
      { action: 'lambda:InvokeFunction', resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:payments-prod-api` },
      'ImplicitlyDenied',
    ],
    [
      "github: upload to another service's bucket",
      () => bootstrap.gitHubRole,
      { action: 's3:PutObject', resource: 'arn:aws:s3:::payments-artifacts/x.zip' },
      'ImplicitlyDenied',
    ],
    // CloudFormation's service role: roles only with the boundary, only on the service's path.
    [
      'cfn role: create a role without the boundary',
      () => bootstrap.cloudFormationRole,
      { action: 'iam:CreateRole', resource: arn.functionRole },
      'ImplicitlyDenied',
    ],
    [
      'cfn role: create a role with another boundary',
      () => bootstrap.cloudFormationRole,
      {
        action: 'iam:CreateRole',
        resource: arn.functionRole,
        context: { 'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/wide-open` },
      },
      'ImplicitlyDenied',
    ],
    [
      'cfn role: create a role off the service path, with the boundary',
      () => bootstrap.cloudFormationRole,
      {
        action: 'iam:CreateRole',
        resource: `arn:aws:iam::${ACCOUNT}:role/admin`,
        context: { 'iam:PermissionsBoundary': bootstrap.boundary.arn },
      },
      'ImplicitlyDenied',
    ],
    [
      'cfn role: put a policy on itself',
      () => bootstrap.cloudFormationRole,
      { action: 'iam:PutRolePolicy', resource: bootstrap.cloudFormationRole.arn },
      'ImplicitlyDenied',
    ],
    [
      'cfn role: put a policy on the GitHub role',
      () => bootstrap.cloudFormationRole,
      { action: 'iam:PutRolePolicy', resource: bootstrap.gitHubRole.arn },
      'ImplicitlyDenied',
    ],
    [
      "cfn role: take a function role's boundary off",
      () => bootstrap.cloudFormationRole,
      {
        action: 'iam:DeleteRolePermissionsBoundary',
        resource: arn.functionRole,
        context: { 'iam:PermissionsBoundary': bootstrap.boundary.arn },
      },
      'ExplicitlyDenied',
    ],
    [
      'cfn role: replace a boundary with another',
      () => bootstrap.cloudFormationRole,
      {
        action: 'iam:PutRolePermissionsBoundary',
        resource: arn.functionRole,
        context: { 'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/wide-open` },
      },
      'ImplicitlyDenied',
    ],
    [
      'cfn role: attach AdministratorAccess',
      () => bootstrap.cloudFormationRole,
      {
        action: 'iam:AttachRolePolicy',
        resource: arn.functionRole,
        context: { 'iam:PermissionsBoundary': bootstrap.boundary.arn, 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' },
      },
      'ExplicitlyDenied',
    ],
    [
      'cfn role: rewrite the boundary policy',
      () => bootstrap.cloudFormationRole,
      { action: 'iam:CreatePolicyVersion', resource: bootstrap.boundary.arn },
      'ExplicitlyDenied',
    ],
    [
      'cfn role: pass a function role to EC2',
      () => bootstrap.cloudFormationRole,
      { action: 'iam:PassRole', resource: arn.functionRole, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      'ImplicitlyDenied',
    ],
    [
      'cfn role: pass itself to Lambda',
      () => bootstrap.cloudFormationRole,
      { action: 'iam:PassRole', resource: bootstrap.cloudFormationRole.arn, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      'ImplicitlyDenied',
    ],
    [
      "cfn role: create another service's function",
      () => bootstrap.cloudFormationRole,
      { action: 'lambda:CreateFunction', resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:payments-prod-api` },
      'ImplicitlyDenied',
    ],
    [
      'cfn role: create a role on the path with the boundary',
      () => bootstrap.cloudFormationRole,
      { action: 'iam:CreateRole', resource: arn.functionRole, context: { 'iam:PermissionsBoundary': bootstrap.boundary.arn } },
      'Allowed',
    ],
    // A role the stack creates, given any policy at all: the boundary holds it to the relay's own resources.
    [
      'rewritten function, any policy: create an IAM user',
      () => wideOpenFunctionRole(),
      { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/escalate` },
      'ImplicitlyDenied',
    ],
    [
      'rewritten function, any policy: read any S3 object',
      () => wideOpenFunctionRole(),
      { action: 's3:GetObject', resource: 'arn:aws:s3:::payroll/2026.csv' },
      'ImplicitlyDenied',
    ],
    [
      'rewritten function, any policy: read another parameter',
      () => wideOpenFunctionRole(),
      { action: 'ssm:GetParameter', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/payments/db-password` },
      'ImplicitlyDenied',
    ],
    [
      'rewritten function, any policy: assume another role',
      () => wideOpenFunctionRole(),
      { action: 'sts:AssumeRole', resource: `arn:aws:iam::${ACCOUNT}:role/admin` },
      'ImplicitlyDenied',
    ],
    [
      'rewritten function, any policy: rewrite a function',
      () => wideOpenFunctionRole(),
      { action: 'lambda:UpdateFunctionCode', resource: arn.function },
      'ImplicitlyDenied',
    ],
    [
      'rewritten function, any policy: delete the ledger',
      () => wideOpenFunctionRole(),
      { action: 'dynamodb:DeleteTable', resource: arn.table },
      'ImplicitlyDenied',
    ],
    // What no boundary can take away: code deployed as deliver reads deliver's secret (the guide says so).
    [
      "rewritten function, any policy: read the relay's Squadcast URL",
      () => wideOpenFunctionRole(),
      { action: 'ssm:GetParameter', resource: arn.parameter },
      'Allowed',
    ],
  ];

  /** A role the stack could create (with the boundary) holding an Allow of everything. */
  const wideOpenFunctionRole = (): Principal => ({
    arn: arn.functionRole,
    policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
    boundary: bootstrap.boundary.policy,
  });

  it('denies every escalation path, and allows the deploy what it needs', async () => {
    const lines: string[] = [];
    const wrong: string[] = [];
    for (const [path, principal, request, expected] of PATHS) {
      const verdict = await verdictOf(principal(), request);
      lines.push(`  ${verdict.padEnd(17)} ${path}`);
      if (verdict !== expected) wrong.push(`${path}: ${verdict}, expected ${expected}`);
    }
    expect(wrong).toEqual([]);
    console.log(['IAM evaluator (@cloud-copilot/iam-simulate), escalation paths:', ...lines].join('\n'));
  });

  it('trusts only CloudFormation of this account for the service role, and one repository and environment for the GitHub role', () => {
    expect(bootstrap.cloudFormationRole.trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudformation.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ]);
    expect(bootstrap.gitHubRole.trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': 'repo:example-org/threatstack-squadcast-relay:environment:prod',
          },
        },
      },
    ]);
  });

  it("names only actions, ARNs and condition keys AWS's data knows, in every role of the bootstrap and of the stack", async () => {
    const facts = {
      region: REGION,
      account: ACCOUNT,
      partition: 'aws',
      stackName: stack,
      resources: Object.fromEntries(
        Object.entries(template.Resources).map(([id, r]) => [id, { type: r.Type, physicalId: `${stack}-${id}-1A2B3C4D5E6F` }]),
      ),
    };
    const stackRoles = Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .flatMap(([id, r]) =>
        ((r.Properties?.Policies ?? []) as Array<{ PolicyDocument: unknown }>).map(
          (p) => [id, resolveIntrinsics(p.PolicyDocument, facts) as PolicyDocument] as const,
        ),
      );
    const policies: ReadonlyArray<readonly [string, PolicyDocument]> = [
      ...bootstrap.cloudFormationRole.policies.map((p) => ['CloudFormationRole', p] as const),
      ...bootstrap.gitHubRole.policies.map((p) => ['GitHubDeployRole', p] as const),
      ['FunctionBoundary', bootstrap.boundary.policy],
      ...stackRoles,
    ];
    const problems = (await Promise.all(policies.map(([name, policy]) => policyProblems(policy, name)))).flat();
    expect(problems).toEqual([]);
    const actions = policies.flatMap(([, p]) => p.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
    console.log(`IAM data: ${policies.length} policies, ${actions.length} action entries, every one known to iam-data`);
  }, 120_000);

  it('finds a misspelt action, an ARN of the wrong service and an unsupported condition key', async () => {
    const problems = await policyProblems(
      {
        Statement: [
          { Sid: 'typo', Effect: 'Allow', Action: 'sqs:SendMesage', Resource: arn.queue },
          { Sid: 'wrong', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn.table },
          {
            Sid: 'key',
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Resource: arn.queue,
            Condition: { StringEquals: { 'iam:PassedToService': 'x' } },
          },
        ],
      },
      'broken',
    );
    expect(problems).toEqual([
      'broken statement typo: sqs:SendMesage names no IAM action',
      `broken statement wrong: no action of the statement acts on ${arn.table}`,
      'broken statement wrong: no resource of the statement is one sqs:SendMessage acts on',
      'broken statement key: no action of the statement supports the condition key iam:PassedToService',
    ]);
    expect(await actionsNamedBy('sqs:Send*')).toEqual(['sqs:SendMessage']);
  });
});
