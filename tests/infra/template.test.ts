// Packages the service with osls (offline, no AWS credentials) and checks the real
// CloudFormation template it produces: the guarantees the relay's code relies on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { METRIC_NAMES } from '../../lib/common/metrics';
import { readIngestConfig } from '../../lib/config/env';
import { readDeliverConfig } from '../../lib/delivery/deliver-config';
import {
  BACKSTOP_RECEIVES,
  MAX_GIVE_UP_HOURS,
  MAX_RETRY_STEP_SECONDS,
  QUEUE_RETENTION_HOURS,
  STALL_ALARM_WINDOW_SECONDS,
} from '../../lib/delivery/retry-budget';
import { parsePriorities, parseUnknownPriority } from '../../lib/incident/priorities';
import { parseSeverities } from '../../lib/ingest/severity-filter';
import { THREAT_STACK_SOURCE_IPS } from '../../lib/ingest/source-allowlist';
import { METRICS_SERVICE } from '../../lib/telemetry/telemetry';
import { packagedOnce } from '../helpers/package-service';
import { readZip } from '../helpers/zip';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: readonly string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

interface Template {
  readonly Resources: Record<string, Resource>;
  readonly Outputs: Record<string, { readonly Value: unknown }>;
  readonly Conditions?: Record<string, unknown>;
}

/** One entry of an alarm's `Metrics` (a metric math alarm). */
interface MetricQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly ReturnData?: boolean;
  readonly MetricStat?: {
    readonly Metric: { readonly Namespace: string; readonly MetricName: string; readonly Dimensions: unknown };
    readonly Period: number;
    readonly Stat: string;
  };
}

/** infra/alarm-destination.js, the osls plugin that decides where alarms go. */
interface AlarmDestinationPlugin {
  alarmDestination(settings: Record<string, unknown>, stage: string): unknown;
  applyAlarmDestination(template: Template, destination: unknown): string;
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const projectRoot = resolve(__dirname, '../..');
const THREAT_STACK_IPS = ['52.20.173.142', '54.173.79.87', '54.174.225.119'];
const FUNCTIONS = ['ingest', 'deliver', 'status', 'deadLetterWatch', 'testAlert'] as const;

/** cfn-lint's path, or undefined when it is not installed (`pip install cfn-lint`). */
const findCfnLint = (): string | undefined => {
  const which = spawnSync('sh', ['-c', 'command -v cfn-lint'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() !== '' ? which.stdout.trim() : undefined;
};

interface CfnLintFinding {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Location: { readonly Path: readonly (string | number)[] | null };
}

/** Runs cfn-lint with the project's .cfnlintrc; every finding it prints, as one line each. */
const cfnLint = (cfnLintPath: string, templatePath: string): string[] => {
  const run = spawnSync(cfnLintPath, ['--config-file', join(projectRoot, '.cfnlintrc'), '--format', 'json', '--', templatePath], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.error) throw run.error;
  const findings = JSON.parse(run.stdout || '[]') as CfnLintFinding[];
  const lines = findings.map((f) => `${f.Rule.Id} ${f.Level}: ${f.Message} at ${(f.Location.Path ?? []).join('/')}`);
  if (run.status !== 0 && lines.length === 0) throw new Error(`cfn-lint failed (exit ${run.status}):\n${run.stderr}`);
  return lines;
};

/** SECRETS_MAX_AGE_SECONDS as the functions parse it. */
const readIngestConfigMaxAge = (value: string): number =>
  readIngestConfig({
    ALERTS_QUEUE_URL: 'q',
    DEAD_LETTER_QUEUE_URL: 'd',
    WEBHOOK_TOKEN: 'token-0123456789abcdef',
    SECRETS_MAX_AGE_SECONDS: value,
  }).secretsMaxAgeSeconds;

const asArray = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T]);

describe('serverless package (CloudFormation template)', () => {
  let outDir = '';
  let template: Template = { Resources: {}, Outputs: {} };
  let resources: Record<string, Resource> = {};
  let outputs: Template['Outputs'] = {};

  const resource = (logicalId: string): Resource => {
    const found = resources[logicalId];
    if (!found) throw new Error(`resource ${logicalId} missing from the template`);
    return found;
  };
  const props = (logicalId: string): Record<string, unknown> => resource(logicalId).Properties ?? {};
  const ofType = (type: string): Resource[] => Object.values(resources).filter((r) => r.Type === type);
  const functionLogGroups = (): Resource[] =>
    ofType('AWS::Logs::LogGroup').filter((group) => String(group.Properties?.LogGroupName).startsWith('/aws/lambda/'));
  const functionId = (name: (typeof FUNCTIONS)[number]): string => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`;
  const roleStatements = (roleId: string): Statement[] => {
    const policies = (props(roleId).Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    return policies.flatMap((p) => p.PolicyDocument.Statement);
  };

  beforeAll(() => {
    ({ dir: outDir, template } = packagedOnce() as { dir: string; template: Template });
    resources = template.Resources;
    outputs = template.Outputs;
  }, 300_000);

  it('produces one non-empty bundle per function', () => {
    for (const name of FUNCTIONS) {
      const zip = join(outDir, `${name}.zip`);
      expect(existsSync(zip)).toBe(true);
      expect(statSync(zip).size).toBeGreaterThan(0);
      expect(props(functionId(name)).Code).toMatchObject({ S3Key: expect.stringMatching(new RegExp(`/${name}\\.zip$`)) });
    }
  });

  it('bundles one copy of Powertools commons in each function', () => {
    // Two copies (two versions, or its ESM and CJS builds) would each bring the version constant
    // and the Utility base class every Powertools utility extends ('service_undefined').
    const { version } = JSON.parse(readFileSync(join(projectRoot, 'node_modules/@aws-lambda-powertools/commons/package.json'), 'utf8'));
    const occurrences = (text: string, marker: string): number => text.split(marker).length - 1;
    for (const name of FUNCTIONS) {
      const bundle = [...readZip(join(outDir, `${name}.zip`)).values()].map((file) => file.toString('utf8')).join('\n');
      expect([name, occurrences(bundle, `"${version}"`), occurrences(bundle, 'service_undefined')]).toEqual([name, 1, 1]);
    }
  });

  it('ships none of the AGPL development tools (the IAM evaluator of the deploy checks) in any bundle', () => {
    for (const name of FUNCTIONS) {
      const bundle = [...readZip(join(outDir, `${name}.zip`)).values()].map((file) => file.toString('utf8')).join('\n');
      expect([name, /cloud-copilot|iam-simulate|AGPL/i.test(bundle)]).toEqual([name, false]);
    }
  });

  it('runs every function on nodejs24.x', () => {
    const runtimes = ofType('AWS::Lambda::Function').map((fn) => fn.Properties?.Runtime);
    expect(runtimes).toEqual(FUNCTIONS.map(() => 'nodejs24.x'));
  });

  it('gives ingest 512 MB (a batch at the body limit peaks near 230 MiB) and the other functions 256 MB', () => {
    expect(props('IngestLambdaFunction').MemorySize).toBe(512);
    for (const id of ['DeliverLambdaFunction', 'StatusLambdaFunction', 'TestAlertLambdaFunction']) expect(props(id).MemorySize).toBe(256);
  });

  it('gives ingest the same addresses as the resource policy, as a plain string (serverless invoke local reads it)', () => {
    const policy = props('ApiGatewayRestApi').Policy as { Statement: Statement[] };
    const policyIps = policy.Statement.flatMap((s) => asArray(s.Condition?.IpAddress?.['aws:SourceIp'] as string | string[]));
    const envIps = environment('ingest').ALLOWED_SOURCE_IPS;
    expect(typeof envIps).toBe('string');
    expect(String(envIps).split(',')).toEqual(policyIps);
    expect([...policyIps].sort()).toEqual([...THREAT_STACK_SOURCE_IPS].sort());
  });

  it('holds no condition: the alarm destination is decided at package time (cfn-lint W8003)', () => {
    expect(template.Conditions).toBeUndefined();
    expect(Object.values(resources).filter((r) => r.Condition !== undefined)).toEqual([]);
    // The ci stage says alarmEmail: none: the topic, no subscription (tests/plugins/alarm-destination.test.ts has the others).
    expect(resources.AlarmEmailSubscription).toBeUndefined();
    expect(readFileSync(join(projectRoot, 'serverless.yml'), 'utf8')).toMatch(
      /\nplugins:\n(?: {2}.*\n)* {2}- \.\/infra\/alarm-destination\.js\n/,
    );
  });

  it('spells out what happens to queues and log groups on removal or replacement (cfn-lint I3011)', () => {
    for (const id of ['AlertsQueue', 'DeadLetterQueue']) {
      expect([resource(id).DeletionPolicy, resource(id).UpdateReplacePolicy]).toEqual(['Delete', 'Retain']);
    }
    for (const group of functionLogGroups()) expect([group.DeletionPolicy, group.UpdateReplacePolicy]).toEqual(['Delete', 'Delete']);
    // What operators did to dead letters outlives the stack: it is the audit trail.
    expect([resource('OperationsLogGroup').DeletionPolicy, resource('OperationsLogGroup').UpdateReplacePolicy]).toEqual([
      'Retain',
      'Retain',
    ]);
    expect([resource('ActivityTable').DeletionPolicy, resource('ActivityTable').UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('uses Fn::Join only where osls writes it (the one rule .cfnlintrc ignores, I1022)', () => {
    const generatedByOsls = ['ApiGatewayMethodThreatstackTokenVarPost', 'IngestLambdaPermissionApiGateway'];
    const joining = Object.entries(resources)
      .filter(([, r]) => JSON.stringify(r).includes('"Fn::Join"'))
      .map(([id]) => id);
    expect(joining.sort()).toEqual([...generatedByOsls].sort());
  });

  const cfnLintPath = findCfnLint();
  if (cfnLintPath === undefined && process.env.CI) {
    it('finds cfn-lint (CI installs it: pip install cfn-lint)', () => {
      expect(cfnLintPath).toBeDefined();
    });
  } else if (cfnLintPath === undefined) {
    console.log('cfn-lint is not installed (pip install cfn-lint): skipping the cfn-lint checks of the template');
  }
  const withCfnLint = cfnLintPath === undefined ? it.skip : it;

  withCfnLint('passes AWS cfn-lint with no finding: errors, warnings and informational', () => {
    expect(cfnLint(cfnLintPath ?? '', join(outDir, 'cloudformation-template-update-stack.json'))).toEqual([]);
  });

  withCfnLint.each([
    ['two alarm emails', { alarmEmail: 'oncall@example.com, secops@example.com' }],
    ['an existing SNS topic', { alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:pager' }],
  ])('passes cfn-lint with %s as the alarm destination too', (name, settings) => {
    const plugin = require('../../infra/alarm-destination.js') as AlarmDestinationPlugin;
    const copy = JSON.parse(JSON.stringify(template)) as Template;
    plugin.applyAlarmDestination(copy, plugin.alarmDestination(settings, 'ci'));
    const dir = mkdtempSync(join(tmpdir(), 'relay-template-'));
    try {
      const path = join(dir, `with-${name.replace(/\W+/g, '-')}.json`);
      writeFileSync(path, JSON.stringify(copy));
      expect(cfnLint(cfnLintPath ?? '', path)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets only Threat Stack addresses invoke the REST API', () => {
    const policy = props('ApiGatewayRestApi').Policy as { Statement: Statement[] };
    expect(policy.Statement.length).toBeGreaterThan(0);
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe('Allow');
      expect(asArray(statement.Action)).toEqual(['execute-api:Invoke']);
      expect(Object.keys(statement.Condition ?? {})).toEqual(['IpAddress']);
      const sourceIps = asArray(statement.Condition?.IpAddress?.['aws:SourceIp'] as string | string[]);
      expect([...sourceIps].sort()).toEqual([...THREAT_STACK_IPS].sort());
    }
  });

  it('redrives AlertsQueue to the dead-letter queue only as a backstop: after 1000 receives, the most SQS allows', () => {
    // deliver dead-letters a failing alert itself after DELIVERY_GIVE_UP_HOURS; the arithmetic that keeps
    // attempts and deferrals under this count is tested in tests/unit/delivery/retry-budget.test.ts.
    expect(props('AlertsQueue').RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] },
      maxReceiveCount: BACKSTOP_RECEIVES,
    });
  });

  it('keeps messages 14 days in both queues: longer than any give-up budget deliver accepts', () => {
    for (const queue of ['AlertsQueue', 'DeadLetterQueue']) {
      expect(Number(props(queue).MessageRetentionPeriod)).toBe(QUEUE_RETENTION_HOURS * 3_600);
    }
    expect(MAX_GIVE_UP_HOURS).toBeLessThan(QUEUE_RETENTION_HOURS);
  });

  it('gives deliver a give-up budget of 24 hours, which its config accepts', () => {
    const env = environment('deliver');
    expect(env.DELIVERY_GIVE_UP_HOURS).toBe('24');
    const config = readDeliverConfig({
      ALERTS_QUEUE_URL: 'q',
      DEAD_LETTER_QUEUE_URL: 'd',
      LEDGER_TABLE_NAME: 't',
      SQUADCAST_WEBHOOK_URL: 'https://api.squadcast.com/v2/incidents/api/k',
      DELIVERY_GIVE_UP_HOURS: String(env.DELIVERY_GIVE_UP_HOURS),
    });
    expect(config.giveUpHours).toBe(24);
  });

  it('keeps messages invisible for at least 6 x the deliver timeout', () => {
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    const deliverTimeout = Number(props('DeliverLambdaFunction').Timeout);
    expect(deliverTimeout).toBeGreaterThan(0);
    expect(Number(props('AlertsQueue').VisibilityTimeout)).toBeGreaterThanOrEqual(6 * deliverTimeout);
  });

  it('reports partial batch failures from deliver, at most 2 concurrent', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      (m) => JSON.stringify(m.Properties?.FunctionName) === JSON.stringify({ 'Fn::GetAtt': ['DeliverLambdaFunction', 'Arn'] }),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['AlertsQueue', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('bills ActivityTable per request, expires items on expiresAt, and can restore it to any second of 35 days', () => {
    expect(props('ActivityTable')).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it("reserves deliver's concurrency at the mapping's maximum: never starved, never past the Squadcast pace", () => {
    const mapping = ofType('AWS::Lambda::EventSourceMapping').find((m) => JSON.stringify(m.Properties?.FunctionName).includes('Deliver'));
    const maximum = (mapping?.Properties?.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency;
    expect(maximum).toBeGreaterThan(0);
    expect(props('DeliverLambdaFunction').ReservedConcurrentExecutions).toBe(maximum);
    expect(environment('deliver').DELIVERY_MAX_INVOCATIONS).toBe(String(maximum));
    for (const id of ['IngestLambdaFunction', 'StatusLambdaFunction', 'TestAlertLambdaFunction'])
      expect(props(id).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('throttles the API stage well above what Threat Stack sends (a rule raises at most 200 alerts a minute), on a Stage resource', () => {
    const [deployment, ...others] = ofType('AWS::ApiGateway::Deployment');
    expect(others).toEqual([]);
    // A StageDescription on osls's Deployment would fail every deploy after the first (infra/api-stage.js).
    expect(deployment?.Properties?.StageDescription).toBeUndefined();
    expect(deployment?.Properties?.StageName).toBeUndefined();
    expect(props('ApiGatewayStage').MethodSettings).toEqual([
      { ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    ]);
  });

  it('packaged twice, gives each package a new Deployment that the stage follows, and neither describes a stage', () => {
    // Any parameter makes another package (packagedOnce keys on them); this one changes nothing.
    const again = packagedOnce('ci', ['apiThrottleRateLimit=50']).template;
    const deploymentOf = (t: typeof template) => {
      const ids = Object.entries(t.Resources)
        .filter(([, r]) => r.Type === 'AWS::ApiGateway::Deployment')
        .map(([id]) => id);
      expect(ids).toHaveLength(1);
      const [id = ''] = ids;
      expect(t.Resources[id]?.Properties?.StageDescription).toBeUndefined();
      expect(t.Resources.ApiGatewayStage?.Properties?.DeploymentId).toEqual({ Ref: id });
      return id;
    };
    const first = deploymentOf(template);
    const second = deploymentOf(again);
    expect(second).not.toBe(first);
    console.log(`two packages: ${first} then ${second}, the stage following each, no StageDescription`);
  }, 240_000);

  it('publishes no numbered function versions (versionFunctions: false): nothing piles up', () => {
    expect(ofType('AWS::Lambda::Version')).toEqual([]);
  });

  it('alarms as soon as a message reaches the dead-letter queue, counting the ones being read (in flight) too', () => {
    const alarm = props('DeadLetterAlarm');
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    expect(alarm.MetricName).toBeUndefined();
    const queries = alarm.Metrics as MetricQuery[];
    const returned = queries.filter((q) => q.ReturnData);
    // Metric math counts a missing value as 0; FILL would also stand in for a minute SQS has not published yet.
    expect(returned).toEqual([expect.objectContaining({ Expression: 'visible + inFlight' })]);
    const metricOf = (id: string) => queries.find((q) => q.Id === id)?.MetricStat;
    const dimensions = [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }];
    expect(metricOf('visible')).toEqual({
      Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: dimensions },
      Period: 60,
      Stat: 'Maximum',
    });
    expect(metricOf('inFlight')).toEqual({
      Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesNotVisible', Dimensions: dimensions },
      Period: 60,
      Stat: 'Maximum',
    });
  });

  it('keeps function logs for 30 days, and the operations log (dead letters discarded, by whom and why) for a year', () => {
    const logGroups = functionLogGroups();
    expect(logGroups).toHaveLength(FUNCTIONS.length);
    for (const group of logGroups) expect(group.Properties?.RetentionInDays).toBe(30);
    // No fixed name: one kept after a removal would block the next create of the stage.
    expect(resource('OperationsLogGroup').Properties).toEqual({ RetentionInDays: 365 });
    expect(outputs.OperationsLogGroupName?.Value).toEqual({ Ref: 'OperationsLogGroup' });
  });

  it('gives each function its own role, with no wildcard action', () => {
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
    for (const name of FUNCTIONS) {
      const roleId = `${name[0]?.toUpperCase()}${name.slice(1)}Role`;
      expect(props(functionId(name)).Role).toEqual({ 'Fn::Sub': `\${${roleId}.Arn}` });
      // The Fn::Sub reference already orders the function after its role (cfn-lint W3005).
      expect(resource(functionId(name)).DependsOn ?? []).not.toContain(roleId);
      expect(props(roleId).ManagedPolicyArns).toBeUndefined();
      const actions = roleStatements(roleId).flatMap((s) => asArray(s.Action));
      expect(actions.length).toBeGreaterThan(0);
      for (const action of actions) expect(action).not.toContain('*');
    }
  });

  it('grants ingest no DynamoDB access', () => {
    const actions = roleStatements('IngestRole').flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => a.toLowerCase().startsWith('dynamodb:'))).toEqual([]);
  });

  const environment = (name: (typeof FUNCTIONS)[number]): Record<string, unknown> =>
    (props(functionId(name)).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};

  it('gives every function its stage and the metrics namespace', () => {
    for (const name of FUNCTIONS)
      expect(environment(name)).toMatchObject({ RELAY_STAGE: 'ci', METRICS_NAMESPACE: 'ThreatstackSquadcastRelay' });
  });

  it('configures the severity filter and the priority mapping with defaults the functions accept', () => {
    const severities = environment('ingest').DELIVER_SEVERITIES;
    const priorities = environment('deliver').SEVERITY_PRIORITIES;
    expect(severities).toBe('1,2,3');
    expect(priorities).toBe('1=P1,2=P2,3=P3');
    expect(parseSeverities(String(severities))).toEqual({ kind: 'valid', value: new Set([1, 2, 3]) });
    expect(parsePriorities(String(priorities))).toEqual({ kind: 'valid', value: { 1: 'P1', 2: 'P2', 3: 'P3' } });
    // Empty by default: the highest priority the mapping uses.
    expect(environment('deliver').UNKNOWN_SEVERITY_PRIORITY).toBe('');
    expect(parseUnknownPriority('', { 1: 'P1', 2: 'P2', 3: 'P3' })).toEqual({ kind: 'valid', value: 'P1' });
  });

  it('reads secrets from SSM with a max age the functions accept; each role reads only its own parameters', () => {
    const prefix = '/threatstack-squadcast-relay/ci';
    expect(environment('ingest')).toMatchObject({
      WEBHOOK_TOKEN_PARAMETER: `${prefix}/webhook-token`,
      WEBHOOK_TOKEN_PREVIOUS_PARAMETER: `${prefix}/webhook-token-previous`,
      SECRETS_MAX_AGE_SECONDS: '300',
    });
    expect(environment('deliver')).toMatchObject({
      SQUADCAST_WEBHOOK_URL_PARAMETER: `${prefix}/squadcast-webhook-url`,
      SECRETS_MAX_AGE_SECONDS: '300',
    });
    for (const name of ['ingest', 'deliver'] as const) {
      expect(readIngestConfigMaxAge(String(environment(name).SECRETS_MAX_AGE_SECONDS))).toBe(300);
    }
    const ssmResources = (roleId: string): string[] =>
      roleStatements(roleId)
        .filter((statement) => asArray(statement.Action).some((action) => action.startsWith('ssm:')))
        .flatMap((statement) => {
          expect(statement.Action).toBe('ssm:GetParameter');
          return asArray(statement.Resource).map((resource) =>
            String((resource as { 'Fn::Sub': string })['Fn::Sub']).replace(/^.*:parameter/, ''),
          );
        });
    expect(ssmResources('IngestRole')).toEqual([`${prefix}/webhook-token`, `${prefix}/webhook-token-previous`]);
    expect(ssmResources('DeliverRole')).toEqual([`${prefix}/squadcast-webhook-url`]);
    expect(ssmResources('StatusRole')).toEqual([]);
    expect(ssmResources('TestAlertRole')).toEqual([]);
  });

  it("lets the status read the delivered-at index, one alert's record by its key, and the queues' depths; nothing else", () => {
    const statements = roleStatements('StatusRole').filter((s) => !asArray(s.Action).every((a) => a.startsWith('logs:')));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'sqs:GetQueueAttributes',
        Resource: [{ 'Fn::GetAtt': ['AlertsQueue', 'Arn'] }, { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }],
      },
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Sub': '${ActivityTable.Arn}/index/delivered-at' } },
      { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': ['ActivityTable', 'Arn'] } },
    ]);
  });

  it('lets testAlert send to the alerts queue and nothing else', () => {
    expect(environment('testAlert')).toMatchObject({ ALERTS_QUEUE_URL: { Ref: 'AlertsQueue' } });
    expect(resources.TestAlertLambdaFunction?.Properties?.Events).toBeUndefined();
    const statements = roleStatements('TestAlertRole');
    const sqs = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('sqs:')));
    expect(sqs).toEqual([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['AlertsQueue', 'Arn'] } }]);
    const actions = statements.flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => !a.startsWith('logs:') && !a.startsWith('sqs:'))).toEqual([]);
    // testAlert has no event source: nothing but an operator invokes it.
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map((m) => JSON.stringify(m.Properties?.FunctionName));
    expect(mappings.filter((m) => m.includes('TestAlert'))).toEqual([]);
    expect(
      Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties).includes('TestAlert')),
    ).toEqual([]);
  });

  it('alarms when the oldest alert has waited 15 minutes without being picked up (a stuck consumer)', () => {
    expect(props('OldestMessageAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['AlertsQueue', 'QueueName'] } }],
      Threshold: 900,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms on any 5xx from the webhook, on the API and stage osls deploys', () => {
    const apiName = props('ApiGatewayRestApi').Name;
    expect(apiName).toBe('ci-threatstack-squadcast-relay');
    expect(props('IngestErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [
        { Name: 'ApiName', Value: apiName },
        { Name: 'Stage', Value: 'ci' },
      ],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const stage = ofType('AWS::ApiGateway::Stage').map((d) => d.Properties?.StageName);
    expect(stage).toEqual(['ci']);
  });

  const relayDimensions = [
    { Name: 'service', Value: METRICS_SERVICE },
    { Name: 'stage', Value: 'ci' },
  ];

  it.each([
    ['WebhookRefusedTokenAlarm', METRIC_NAMES.refusedToken],
    ['WebhookRefusedEncodingAlarm', METRIC_NAMES.refusedEncoding],
    ['WebhookRefusedTooLargeAlarm', METRIC_NAMES.refusedTooLarge],
    ['WebhookRefusedNotJsonAlarm', METRIC_NAMES.refusedNotJson],
    ['WebhookRefusedNoAlertsAlarm', METRIC_NAMES.refusedNoAlerts],
  ])('%s fires on the first %s in 5 minutes', (alarmId, metric) => {
    expect(props(alarmId)).toMatchObject({
      Namespace: 'ThreatstackSquadcastRelay',
      MetricName: metric,
      Dimensions: relayDimensions,
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it("alarms on calls refused for their address only above a threshold, counting API Gateway's own refusals", () => {
    const alarm = props('WebhookRefusedSourceAlarm');
    expect(alarm).toMatchObject({ Threshold: '10', ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    const queries = alarm.Metrics as MetricQuery[];
    const stat = (id: string) => queries.find((q) => q.Id === id)?.MetricStat;
    expect(stat('gateway4xx')).toEqual({
      Metric: {
        Namespace: 'AWS/ApiGateway',
        MetricName: '4XXError',
        Dimensions: [
          { Name: 'ApiName', Value: 'ci-threatstack-squadcast-relay' },
          { Name: 'Stage', Value: 'ci' },
        ],
      },
      Period: 300,
      Stat: 'Sum',
    });
    const ids = { token: 'refusedToken', encoding: 'refusedEncoding', tooLarge: 'refusedTooLarge', notJson: 'refusedNotJson' } as const;
    for (const [id, metric] of Object.entries({ ...ids, noAlerts: 'refusedNoAlerts' } as const)) {
      expect(stat(id)).toEqual({
        Metric: { Namespace: 'ThreatstackSquadcastRelay', MetricName: METRIC_NAMES[metric], Dimensions: relayDimensions },
        Period: 300,
        Stat: 'Sum',
      });
    }
    // The gateway's 4xx (ingest's answers included) less those ingest answered for another reason, each once.
    const [expression = ''] = queries.filter((q) => q.ReturnData).map((q) => q.Expression ?? '');
    expect(expression).toBe('gateway4xx - token - encoding - tooLarge - notJson - noAlerts');
    expect(new Set(expression.split(' - '))).toEqual(new Set(queries.filter((q) => q.MetricStat).map((q) => q.Id)));
  });

  it("alarms on every reason a webhook call is refused for: the address through API Gateway's 4xx, the others each on its own", () => {
    const alarmed = new Set(
      ofType('AWS::CloudWatch::Alarm').flatMap((alarm) => [
        alarm.Properties?.MetricName,
        ...((alarm.Properties?.Metrics ?? []) as MetricQuery[]).map((q) => q.MetricStat?.Metric.MetricName),
      ]),
    );
    const refusals = Object.entries(METRIC_NAMES).filter(([key]) => key.startsWith('refused'));
    expect(refusals).toHaveLength(6);
    for (const [key, name] of refusals) {
      const expected = key === 'refusedSource' ? '4XXError' : name;
      expect({ name, alarmed: alarmed.has(expected) }).toEqual({ name, alarmed: true });
    }
  });

  it.each([
    ['DeliverErrorsAlarm', 'Errors'],
    ['DeliverThrottlesAlarm', 'Throttles'],
  ])('%s fires on any deliver %s in 5 minutes', (alarmId, metric) => {
    expect(props(alarmId)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: metric,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'DeliverLambdaFunction' } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on one failed secret read, within its minute, and holds 5 minutes after the last one', () => {
    expect(props('SecretReadFailedAlarm')).toMatchObject({
      Namespace: 'ThreatstackSquadcastRelay',
      MetricName: METRIC_NAMES.secretStale,
      Dimensions: relayDimensions,
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it.each<[string, string, number]>([
    ['SquadcastOutageAlarm', METRIC_NAMES.squadcastFailingFor, 300],
    ['AlertsHeldBackAlarm', METRIC_NAMES.oldestHeldBackAlertAge, 420],
  ])('%s reads %s (%d s), over a window every retry step fits (tests/infra/alarm-evaluation.test.ts runs it)', (id, metric, threshold) => {
    const alarm = props(id);
    expect(alarm).toMatchObject({
      Namespace: 'ThreatstackSquadcastRelay',
      MetricName: metric,
      Dimensions: relayDimensions,
      Statistic: 'Maximum',
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
    // The window the configuration's largest retry step is sized for (lib/delivery/retry-budget.ts).
    expect(Number(alarm.Period) * Number(alarm.EvaluationPeriods)).toBe(STALL_ALARM_WINDOW_SECONDS);
    expect(MAX_RETRY_STEP_SECONDS).toBeLessThanOrEqual(STALL_ALARM_WINDOW_SECONDS - 2 * Number(alarm.Period));
  });

  it('alarms on a dead letter 10 days after it was first queued, 4 days before SQS deletes it, from the hourly watch', () => {
    const alarm = props('DeadLetterExpiryAlarm');
    expect(alarm).toMatchObject({
      Namespace: 'ThreatstackSquadcastRelay',
      MetricName: METRIC_NAMES.oldestDeadLetterAge,
      Dimensions: relayDimensions,
      Statistic: 'Maximum',
      Period: 3600,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(Number(props('DeadLetterQueue').MessageRetentionPeriod) - Number(alarm.Threshold)).toBe(4 * 86_400);
    // SQS's own age of the oldest message leaves out a message looked at three times: no alarm reads it for the dead-letter queue.
    expect(resources.DeadLetterAgeAlarm).toBeUndefined();
    const rule = ofType('AWS::Events::Rule')[0];
    expect(rule?.Properties).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
  });

  it('alarms on every new dead letter, even while the dead-letter queue is already in alarm', () => {
    const alarm = props('DeadLetterArrivalsAlarm');
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: 1 });
    const queries = alarm.Metrics as MetricQuery[];
    expect(queries.filter((q) => q.ReturnData).map((q) => q.Expression)).toEqual(['deadLettered + rejected + sent']);
    const metric = (id: string) => queries.find((q) => q.Id === id)?.MetricStat?.Metric;
    expect(metric('deadLettered')).toEqual({
      Namespace: 'ThreatstackSquadcastRelay',
      MetricName: METRIC_NAMES.deadLettered,
      Dimensions: relayDimensions,
    });
    expect(metric('rejected')).toEqual({
      Namespace: 'ThreatstackSquadcastRelay',
      MetricName: METRIC_NAMES.rejected,
      Dimensions: relayDimensions,
    });
    expect(metric('sent')).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'NumberOfMessagesSent',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
    });
  });

  it('alarms on the first degraded alert and stays in alarm for a day rather than flapping', () => {
    expect(props('AlertsDegradedAlarm')).toMatchObject({
      Namespace: 'ThreatstackSquadcastRelay',
      MetricName: METRIC_NAMES.degraded,
      Dimensions: relayDimensions,
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 24,
      DatapointsToAlarm: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('sends every alarm, and its recovery, to the topic in use; no data is no failure; no FILL in metric math', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBe(17);
    const ids = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id);
    console.log(`alarms in the template: ${ids.length} (${ids.join(', ')}), each notifying the alarm topic and its recovery`);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties?.TreatMissingData).toBe('notBreaching');
      // CloudWatch documents that FILL can hold an alarm on a value it stands in for a late minute.
      const expressions = ((alarm.Properties?.Metrics ?? []) as MetricQuery[]).map((q) => q.Expression ?? '');
      expect(expressions.filter((e) => /FILL/i.test(e))).toEqual([]);
    }
  });

  describe('dashboard', () => {
    type Widget = { type: string; properties: { metrics?: unknown[][]; alarms?: string[]; markdown?: string } };
    let body = '';
    let widgets: Widget[] = [];

    beforeAll(() => {
      const sub = props('Dashboard').DashboardBody as { 'Fn::Sub': string };
      body = sub['Fn::Sub'];
      // CloudFormation substitutes ${Resource.Attr} and ${AWS::Region}; any string stands in for them here.
      widgets = (JSON.parse(body.replace(/\$\{[^}]+\}/g, 'SUBSTITUTED')) as { widgets: Widget[] }).widgets;
    });

    it('is named after the service and stage, and its body is valid JSON once substituted', () => {
      expect(props('Dashboard').DashboardName).toBe('threatstack-squadcast-relay-ci');
      expect(widgets.length).toBeGreaterThan(0);
      expect(outputs.DashboardUrl?.Value).toEqual({ 'Fn::Sub': expect.stringContaining('#dashboards:name=${Dashboard}') });
    });

    it('substitutes only resources and attributes that exist in the template', () => {
      const references = [...body.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1] ?? '');
      expect(references.length).toBeGreaterThan(0);
      for (const reference of references) {
        if (reference.startsWith('AWS::')) continue;
        expect(resources[reference.split('.')[0] ?? '']).toBeDefined();
      }
    });

    it('graphs every metric the relay publishes, under its service and stage dimensions', () => {
      const series = widgets.flatMap((w) => w.properties.metrics ?? []);
      // Expand CloudWatch's "." (same as the row above) shorthand.
      const rows: unknown[][] = [];
      for (const row of series) rows.push(row.map((cell, j) => (cell === '.' ? rows[rows.length - 1]?.[j] : cell)));
      const custom = rows.filter((row) => row[0] === 'ThreatstackSquadcastRelay');
      for (const name of Object.values(METRIC_NAMES)) {
        expect(custom.some((row) => row[1] === name)).toBe(true);
      }
      for (const row of custom.filter((r) => r[2] !== undefined && typeof r[2] === 'string' && r[2] !== '...')) {
        expect(row.slice(2, 6)).toEqual(['service', METRICS_SERVICE, 'stage', 'ci']);
      }
    });

    it('shows the queues, the webhook, the functions and all alarms', () => {
      expect(body).toContain('"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${AlertsQueue.QueueName}"');
      expect(body).toContain('"${DeadLetterQueue.QueueName}"');
      expect(body).toContain('"AWS/ApiGateway", "Count", "ApiName", "ci-threatstack-squadcast-relay", "Stage", "ci"');
      for (const name of ['Ingest', 'Deliver', 'Status', 'TestAlert']) expect(body).toContain(`\${${name}LambdaFunction}`);
      const alarmWidget = widgets.find((w) => w.type === 'alarm');
      const alarmIds = Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
        .map(([id]) => id);
      expect(body).toContain(`"alarms": [${alarmIds.map((id) => `"\${${id}.Arn}"`).join(', ')}]`);
      expect(alarmWidget?.properties.alarms).toHaveLength(alarmIds.length);
    });
  });
});
