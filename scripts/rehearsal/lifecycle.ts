import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { APIGatewayClient, GetStageCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStackResourcesCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DeployProxy } from './deploy-proxy';
import type { PackagedTemplate } from './package';
import { PROJECT_ROOT, readTemplate } from './package';
import type { RehearsedStack } from './stack';
import { forMoto, motoClientConfig, readStack, removeThroughApis, waitForStack } from './stack';

/**
 * The deploy's life cycle, run with the real `serverless deploy` and `serverless remove` against moto
 * (through the deploy proxy, as the deploy identity): create, an update with a code change (a new
 * Deployment), an update that fails midway and rolls back, a removal, and a create of the same stage
 * again. Each step says what it checked.
 */
export interface LifecycleStep {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly seconds: number;
}

export interface LifecycleOptions {
  readonly moto: string;
  readonly proxy: DeployProxy;
  readonly stage: string;
  readonly stackName: string;
  /** Two packages of the stage: each has its own Deployment (and code location). */
  readonly packages: readonly [string, string];
  readonly log: (line: string) => void;
  /** Runs on the stack the first create made, before it changes (the bundles' scenarios). */
  readonly afterCreate: (stack: RehearsedStack) => Promise<void>;
}

export interface Lifecycle {
  readonly steps: LifecycleStep[];
  /** The stack after the first create, for the scenarios. */
  readonly created?: RehearsedStack;
}

/** `serverless <args>` as CI runs it, its AWS calls sent to the deploy proxy (never to AWS). */
export const runServerless = (args: readonly string[], endpoint: string): Promise<{ status: number | null; output: string }> =>
  new Promise((resolve) => {
    const cli = join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'rehearsal',
      AWS_SECRET_ACCESS_KEY: 'rehearsal',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      SLS_TELEMETRY_DISABLED: '1',
    };
    const child = spawn(process.execPath, [cli, ...args], { cwd: PROJECT_ROOT, env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const guard = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (status) => {
      clearTimeout(guard);
      resolve({ status, output });
    });
  });

/** The CLI's first error line and its last lines, on one line, for the table (a stack trace's end alone says nothing). */
const tail = (output: string): string => {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^(Environment|Docs|Deploying|Removing)/.test(line));
  const error = lines.find((line) => /error/i.test(line) && !line.startsWith('at '));
  const last = lines.slice(-2);
  return [...(error === undefined || last.includes(error) ? [] : [error]), ...last].join(' / ');
};

/** A function whose code bucket does not exist: CloudFormation (moto) fails to create it midway. */
const BROKEN_FUNCTION = 'RehearsalBrokenFunction';
const withFailure = (template: Record<string, unknown>): Record<string, unknown> => {
  const adapted = forMoto(template) as { Resources: Record<string, unknown> };
  const ingest = adapted.Resources.IngestLambdaFunction as { Properties: { Code: { S3Bucket: string }; Role: unknown } };
  return {
    ...adapted,
    Resources: {
      ...adapted.Resources,
      [BROKEN_FUNCTION]: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs24.x',
          Handler: 'broken.handler',
          Role: ingest.Properties.Role,
          Code: { S3Bucket: `${ingest.Properties.Code.S3Bucket}-gone`, S3Key: 'never-uploaded.zip' },
        },
      },
    },
  };
};

const stackResourceIds = async (moto: string, name: string): Promise<string[]> => {
  const cfn = new CloudFormationClient(motoClientConfig(moto));
  try {
    const { StackResources = [] } = await cfn.send(new DescribeStackResourcesCommand({ StackName: name }));
    return StackResources.map((r) => r.LogicalResourceId ?? '').sort();
  } finally {
    cfn.destroy();
  }
};

const stageDeployment = async (moto: string, stack: RehearsedStack, stage: string): Promise<string | undefined> => {
  const apigateway = new APIGatewayClient(motoClientConfig(moto));
  try {
    const restApiId = stack.facts.resources.ApiGatewayRestApi?.physicalId ?? '';
    return (await apigateway.send(new GetStageCommand({ restApiId, stageName: stage }))).deploymentId;
  } finally {
    apigateway.destroy();
  }
};

/** What `serverless remove` keeps (DeletionPolicy Retain): the ledger table and the operations log group. */
const retainedAfterRemove = async (moto: string, stack: RehearsedStack): Promise<string[]> => {
  const config = motoClientConfig(moto);
  const dynamodb = new DynamoDBClient(config);
  const logs = new CloudWatchLogsClient(config);
  try {
    const found: string[] = [];
    const table = stack.facts.resources.ActivityTable?.physicalId ?? '';
    const described = await dynamodb.send(new DescribeTableCommand({ TableName: table })).catch(() => undefined);
    if (described?.Table !== undefined) found.push(`ledger ${table}`);
    const group = stack.facts.resources.OperationsLogGroup?.physicalId ?? '';
    const { logGroups = [] } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));
    if (logGroups.some((g) => g.logGroupName === group)) found.push(`operations log ${group}`);
    return found;
  } finally {
    dynamodb.destroy();
    logs.destroy();
  }
};

export const runLifecycle = async (options: LifecycleOptions): Promise<Lifecycle> => {
  const { moto, proxy, stage, stackName, packages, log, afterCreate } = options;
  const steps: LifecycleStep[] = [];
  const templates = packages.map((dir) => readTemplate(dir, 'update')) as [PackagedTemplate, PackagedTemplate];
  const knownDeployments = new Set<string>();
  const timed = async (step: string, run: () => Promise<{ ok: boolean; detail: string }>): Promise<boolean> => {
    log(`life cycle: ${step}`);
    const started = Date.now();
    const { ok, detail } = await run().catch((error: unknown) => ({ ok: false, detail: `could not run: ${(error as Error).message}` }));
    steps.push({ step, ok, detail, seconds: (Date.now() - started) / 1000 });
    return ok;
  };
  const deploy = (dir: string) => runServerless(['deploy', '--stage', stage, '--package', dir], proxy.url);
  let created: RehearsedStack | undefined;
  let current: RehearsedStack | undefined;

  const createdOk = await timed('create (serverless deploy, first time)', async () => {
    const run = await deploy(packages[0]);
    if (run.status !== 0) return { ok: false, detail: `serverless deploy exited ${run.status}: ${tail(run.output)}` };
    created = await readStack(moto, stackName, templates[0], knownDeployments);
    current = created;
    const made = created.notes.filter((n) => n.how === 'created through the API').length;
    return { ok: true, detail: `${Object.keys(created.facts.resources).length} resources (${made} entries through the API)` };
  });
  if (!createdOk || current === undefined) return { steps, created };
  await afterCreate(current);

  await timed('update with a code change (a new Deployment)', async () => {
    const before = await stageDeployment(moto, current as RehearsedStack, stage);
    const run = await deploy(packages[1]);
    if (run.status !== 0) return { ok: false, detail: `serverless deploy exited ${run.status}: ${tail(run.output)}` };
    current = await readStack(moto, stackName, templates[1], knownDeployments);
    const after = await stageDeployment(moto, current, stage);
    const ids = templates.map((t) => Object.keys(t.Resources).find((id) => t.Resources[id]?.Type === 'AWS::ApiGateway::Deployment'));
    const ok = after !== undefined && after !== before && ids[0] !== ids[1];
    return { ok, detail: `${ids[0]} -> ${ids[1]}; the stage moved from deployment ${before} to ${after}` };
  });

  await timed('update that fails midway, rolled back', async () => {
    const before = await stackResourceIds(moto, stackName);
    const lastGood = proxy.templates.at(-1);
    proxy.adapt(withFailure);
    const run = await deploy(packages[0]).finally(() => proxy.adapt(forMoto));
    if (run.status === 0)
      return { ok: false, detail: `serverless deploy succeeded: the injected failure did not happen (${tail(run.output)})` };
    // moto has no rollback: the rehearsal does what CloudFormation does, the last good template applied again.
    const cfn = new CloudFormationClient(motoClientConfig(moto));
    try {
      if (lastGood === undefined) return { ok: false, detail: 'no earlier template to roll back to' };
      await cfn.send(
        new UpdateStackCommand({
          StackName: stackName,
          TemplateBody: JSON.stringify(forMoto(lastGood.body)),
          Capabilities: ['CAPABILITY_IAM'],
        }),
      );
      await waitForStack(cfn, stackName, 'UPDATE_COMPLETE');
    } finally {
      cfn.destroy();
    }
    const after = await stackResourceIds(moto, stackName);
    const same = JSON.stringify(before) === JSON.stringify(after) && !after.includes(BROKEN_FUNCTION);
    return {
      ok: same,
      detail: `the deploy failed (${tail(run.output)}); rolled back to the ${after.length} resources it had${same ? '' : `, NOT the same: ${after.join(',')}`}`,
    };
  });

  await timed('remove (serverless remove)', async () => {
    const run = await runServerless(['remove', '--stage', stage], proxy.url);
    if (run.status !== 0) return { ok: false, detail: `serverless remove exited ${run.status}: ${tail(run.output)}` };
    await removeThroughApis(moto, templates[1], stackName);
    const kept = await retainedAfterRemove(moto, current as RehearsedStack);
    return { ok: kept.length === 2, detail: `stack deleted; kept by DeletionPolicy Retain: ${kept.join(', ') || 'nothing'}` };
  });

  await timed('create again after the removal', async () => {
    const run = await deploy(packages[0]);
    if (run.status !== 0) return { ok: false, detail: `serverless deploy exited ${run.status}: ${tail(run.output)}` };
    const again = await readStack(moto, stackName, templates[0], knownDeployments);
    return { ok: true, detail: `${Object.keys(again.facts.resources).length} resources; nothing kept from before stood in the way` };
  });
  return { steps, created };
};
