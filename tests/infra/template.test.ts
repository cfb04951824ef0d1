// Packages the service with osls (offline, no AWS credentials) and checks the real
// CloudFormation template it produces: the guarantees the relay's code relies on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { METRIC_NAMES } from '../../lib/common/metrics';
import { parsePriorities, parseSeverities, readIngestConfig } from '../../lib/config/env';
import { METRICS_SERVICE } from '../../lib/telemetry/telemetry';
import { readZip } from '../helpers/zip';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
}

interface Template {
  readonly Resources: Record<string, Resource>;
  readonly Outputs: Record<string, { readonly Value: unknown }>;
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const projectRoot = resolve(__dirname, '../..');
const THREAT_STACK_IPS = ['52.20.173.142', '54.173.79.87', '54.174.225.119'];
const FUNCTIONS = ['ingest', 'deliver', 'status', 'testAlert'] as const;

/** The environment of a machine with no AWS account: anything needing AWS fails fast. */
const credentialFreeEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('AWS_') && key !== 'AWS_CA_BUNDLE') delete env[key];
  }
  return {
    ...env,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
};

const packageService = (outDir: string): Template => {
  const cli = join(projectRoot, 'node_modules', 'osls', 'bin', 'serverless.js');
  const run = spawnSync(process.execPath, [cli, 'package', '--stage', 'ci', '--package', outDir], {
    cwd: projectRoot,
    env: credentialFreeEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0) {
    throw new Error(`serverless package failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stdout}\n${run.stderr}`);
  }
  return JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
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
  let resources: Record<string, Resource> = {};
  let outputs: Template['Outputs'] = {};

  const resource = (logicalId: string): Resource => {
    const found = resources[logicalId];
    if (!found) throw new Error(`resource ${logicalId} missing from the template`);
    return found;
  };
  const props = (logicalId: string): Record<string, unknown> => resource(logicalId).Properties ?? {};
  const ofType = (type: string): Resource[] => Object.values(resources).filter((r) => r.Type === type);
  const functionId = (name: (typeof FUNCTIONS)[number]): string => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`;
  const roleStatements = (roleId: string): Statement[] => {
    const policies = (props(roleId).Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    return policies.flatMap((p) => p.PolicyDocument.Statement);
  };

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'relay-package-'));
    const template = packageService(outDir);
    resources = template.Resources;
    outputs = template.Outputs;
  }, 120_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

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

  it('runs every function on nodejs24.x', () => {
    const runtimes = ofType('AWS::Lambda::Function').map((fn) => fn.Properties?.Runtime);
    expect(runtimes).toEqual(FUNCTIONS.map(() => 'nodejs24.x'));
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

  it('redrives AlertsQueue to the dead-letter queue after 15 receives', () => {
    expect(props('AlertsQueue').RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] },
      maxReceiveCount: 15,
    });
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

  it('bills ActivityTable per request and expires items on expiresAt', () => {
    expect(props('ActivityTable')).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('alarms as soon as a message reaches the dead-letter queue', () => {
    const alarm = props('DeadLetterAlarm');
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm.AlarmActions).toEqual(expect.arrayContaining([{ Ref: 'AlarmTopic' }]));
  });

  it('keeps function logs for 30 days', () => {
    const logGroups = ofType('AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(FUNCTIONS.length);
    for (const group of logGroups) expect(group.Properties?.RetentionInDays).toBe(30);
  });

  it('gives each function its own role, with no wildcard action', () => {
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
    for (const name of FUNCTIONS) {
      const roleId = `${name[0]?.toUpperCase()}${name.slice(1)}Role`;
      expect(props(functionId(name)).Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
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

  it('alarms when the oldest alert has waited 15 minutes', () => {
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
    const stage = ofType('AWS::ApiGateway::Deployment').map((d) => d.Properties?.StageName);
    expect(stage).toEqual(['ci']);
  });

  it('sends every alarm, and its recovery, to the alarm topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(3);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties?.TreatMissingData).toBe('notBreaching');
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
