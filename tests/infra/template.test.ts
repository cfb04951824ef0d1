// Packages the service with osls (offline, no AWS credentials) and checks the real
// CloudFormation template it produces: the guarantees the relay's code relies on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
}

interface Template {
  readonly Resources: Record<string, Resource>;
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const projectRoot = resolve(__dirname, '../..');
const THREAT_STACK_IPS = ['52.20.173.142', '54.173.79.87', '54.174.225.119'];
const FUNCTIONS = ['ingest', 'deliver', 'status'] as const;

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

const asArray = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T]);

describe('serverless package (CloudFormation template)', () => {
  let outDir = '';
  let resources: Record<string, Resource> = {};

  const resource = (logicalId: string): Resource => {
    const found = resources[logicalId];
    if (!found) throw new Error(`resource ${logicalId} missing from the template`);
    return found;
  };
  const props = (logicalId: string): Record<string, unknown> => resource(logicalId).Properties ?? {};
  const ofType = (type: string): Resource[] => Object.values(resources).filter((r) => r.Type === type);
  const functionId = (name: (typeof FUNCTIONS)[number]): string => `${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`;
  const roleStatements = (roleId: string): Statement[] => {
    const policies = (props(roleId).Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    return policies.flatMap((p) => p.PolicyDocument.Statement);
  };

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'relay-package-'));
    resources = packageService(outDir).Resources;
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

  it('runs every function on nodejs22.x', () => {
    const runtimes = ofType('AWS::Lambda::Function').map((fn) => fn.Properties?.Runtime);
    expect(runtimes).toEqual(FUNCTIONS.map(() => 'nodejs22.x'));
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
    expect(mappings[0]!.Properties).toMatchObject({
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
      const roleId = `${name[0]!.toUpperCase()}${name.slice(1)}Role`;
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
});
