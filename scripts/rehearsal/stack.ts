import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackResource } from '@aws-sdk/client-cloudformation';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  PutDashboardCommand,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { StackFacts } from './intrinsics';
import { resolveIntrinsics } from './intrinsics';
import type { PackagedTemplate, TemplateResource } from './package';
import { readTemplate } from './package';

/** Settings every client of the rehearsal uses: moto's endpoint, any credentials. */
export const motoClientConfig = (endpoint: string) =>
  ({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'rehearsal', secretAccessKey: 'rehearsal' },
    forcePathStyle: true,
  }) as const;

/**
 * Types moto's CloudFormation has no model for (it answers "not supported" and the stack cannot
 * resolve references to them): the rehearsal takes them out of the template and creates each one
 * through its own service's API, resolved against the stack, so that none is skipped silently.
 */
export const CREATED_THROUGH_THE_API = ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard', 'AWS::S3::BucketPolicy'] as const;

/** What the rehearsal did with a resource, when it was not a plain create in moto's CloudFormation. */
export interface ResourceNote {
  readonly logicalId: string;
  readonly type: string;
  readonly how: 'created through the API' | 'created, not emulated' | 'disabled for the rehearsal';
  readonly detail: string;
}

export interface RehearsedStack {
  readonly name: string;
  readonly facts: StackFacts;
  readonly outputs: Readonly<Record<string, string>>;
  readonly notes: readonly ResourceNote[];
  /** The environment moto's CloudFormation gave the function (every Ref resolved). */
  environmentOf(functionLogicalId: string): Promise<Record<string, string>>;
}

const referencesAny = (value: unknown, ids: ReadonlySet<string>): boolean => {
  const text = JSON.stringify(value);
  return [...ids].some((id) => text.includes(`"${id}"`) || text.includes(`\${${id}`));
};

/** The template without the resources moto cannot model, nor the outputs that name them. */
const forMoto = (template: PackagedTemplate, dropped: ReadonlySet<string>): PackagedTemplate => ({
  ...template,
  Resources: Object.fromEntries(Object.entries(template.Resources).filter(([id]) => !dropped.has(id))),
  Outputs: Object.fromEntries(Object.entries(template.Outputs ?? {}).filter(([, output]) => !referencesAny(output, dropped))),
});

const waitForStack = async (cfn: CloudFormationClient, name: string, want: string): Promise<void> => {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    const status = Stacks?.[0]?.StackStatus ?? 'UNKNOWN';
    if (status === want) return;
    if (!status.endsWith('_IN_PROGRESS')) {
      const { StackEvents = [] } = await cfn.send(new DescribeStackEventsCommand({ StackName: name }));
      const failed = StackEvents.filter((e) => e.ResourceStatus?.endsWith('FAILED')).map(
        (e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`,
      );
      throw new Error(`stack ${name} ended ${status}, not ${want}:\n${failed.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`stack ${name} did not reach ${want} within 120 s`);
};

const factsOf = (name: string, resources: readonly StackResource[]): StackFacts => {
  const queueUrl = resources.find((r) => r.ResourceType === 'AWS::SQS::Queue')?.PhysicalResourceId ?? '';
  const account = /\/(\d{12})\//.exec(queueUrl)?.[1];
  if (account === undefined) throw new Error(`cannot read the account from the queue URL ${queueUrl}`);
  return {
    region: 'us-east-1',
    account,
    partition: 'aws',
    stackName: name,
    resources: Object.fromEntries(
      resources.map((r) => [r.LogicalResourceId ?? '', { type: r.ResourceType ?? '', physicalId: r.PhysicalResourceId ?? '' }]),
    ),
  };
};

/** Creates the API-made resources in dependency order (alarms before the dashboard that names them). */
const createThroughApis = async (
  endpoint: string,
  template: PackagedTemplate,
  dropped: readonly string[],
  facts: StackFacts,
): Promise<{ facts: StackFacts; notes: ResourceNote[] }> => {
  const config = motoClientConfig(endpoint);
  const cloudwatch = new CloudWatchClient(config);
  const s3 = new S3Client(config);
  const notes: ResourceNote[] = [];
  let current = facts;
  const order = [...dropped].sort(
    (a, b) =>
      CREATED_THROUGH_THE_API.indexOf((template.Resources[a] as TemplateResource).Type as never) -
      CREATED_THROUGH_THE_API.indexOf((template.Resources[b] as TemplateResource).Type as never),
  );
  for (const logicalId of order) {
    const resource = template.Resources[logicalId] as TemplateResource;
    const props = resolveIntrinsics(resource.Properties ?? {}, current) as Record<string, unknown>;
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const alarmName = `${facts.stackName}-${logicalId}`;
      await cloudwatch.send(new PutMetricAlarmCommand({ ...(props as object), AlarmName: alarmName } as never));
      current = { ...current, resources: { ...current.resources, [logicalId]: { type: resource.Type, physicalId: alarmName } } };
      notes.push({ logicalId, type: resource.Type, how: 'created through the API', detail: `PutMetricAlarm ${alarmName}` });
    } else if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      await cloudwatch.send(
        new PutDashboardCommand({ DashboardName: String(props.DashboardName), DashboardBody: String(props.DashboardBody) }),
      );
      const { DashboardBody } = await cloudwatch.send(new GetDashboardCommand({ DashboardName: String(props.DashboardName) }));
      JSON.parse(DashboardBody ?? '');
      notes.push({ logicalId, type: resource.Type, how: 'created through the API', detail: `PutDashboard ${String(props.DashboardName)}` });
    } else if (resource.Type === 'AWS::S3::BucketPolicy') {
      await s3.send(new PutBucketPolicyCommand({ Bucket: String(props.Bucket), Policy: JSON.stringify(props.PolicyDocument) }));
      notes.push({ logicalId, type: resource.Type, how: 'created through the API', detail: `PutBucketPolicy ${String(props.Bucket)}` });
    }
  }
  const alarms = dropped.filter((id) => template.Resources[id]?.Type === 'AWS::CloudWatch::Alarm').length;
  const { MetricAlarms = [] } = await cloudwatch.send(
    new DescribeAlarmsCommand({ AlarmNamePrefix: `${facts.stackName}-`, MaxRecords: 100 }),
  );
  if (MetricAlarms.length !== alarms) throw new Error(`CloudWatch holds ${MetricAlarms.length} alarms of the stack, not ${alarms}`);
  return { facts: current, notes };
};

/**
 * The packaged service, deployed into moto the way `serverless deploy` deploys it: the create
 * template (the deployment bucket), the bundles uploaded to it, then the update template.
 */
export const createStack = async (endpoint: string, packageDir: string, name: string): Promise<RehearsedStack> => {
  const config = motoClientConfig(endpoint);
  const cfn = new CloudFormationClient(config);
  const s3 = new S3Client(config);
  const lambda = new LambdaClient(config);
  const create = readTemplate(packageDir, 'create');
  const update = readTemplate(packageDir, 'update');
  const unmodelled = new Set<string>(CREATED_THROUGH_THE_API);
  const dropped = Object.entries(update.Resources)
    .filter(([, resource]) => unmodelled.has(resource.Type))
    .map(([id]) => id);
  const droppedIds = new Set(dropped);

  await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(forMoto(create, droppedIds)) }));
  await waitForStack(cfn, name, 'CREATE_COMPLETE');
  const created = (await cfn.send(new DescribeStackResourcesCommand({ StackName: name }))).StackResources ?? [];
  const bucket = created.find((r) => r.LogicalResourceId === 'ServerlessDeploymentBucket')?.PhysicalResourceId;
  for (const [id, resource] of Object.entries(update.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const key = String((resource.Properties?.Code as { S3Key?: string } | undefined)?.S3Key);
    const zip = key.split('/').pop() ?? '';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(join(packageDir, zip)) }));
    if (zip === '') throw new Error(`${id}: no code key`);
  }
  await cfn.send(
    new UpdateStackCommand({
      StackName: name,
      TemplateBody: JSON.stringify(forMoto(update, droppedIds)),
      Capabilities: ['CAPABILITY_IAM'],
    }),
  );
  await waitForStack(cfn, name, 'UPDATE_COMPLETE');
  const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: name }))).StackResources ?? [];
  const made = await createThroughApis(endpoint, update, dropped, factsOf(name, resources));

  // moto would hand messages to the function itself (in Docker, which is not here): the rehearsal
  // drives deliver as the mapping would, so the mapping moto created is switched off.
  const notes: ResourceNote[] = [...made.notes];
  const { EventSourceMappings = [] } = await lambda.send(new ListEventSourceMappingsCommand({}));
  for (const mapping of EventSourceMappings) {
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: false }));
    const logicalId = resources.find((r) => r.PhysicalResourceId === mapping.UUID)?.LogicalResourceId ?? 'EventSourceMapping';
    notes.push({
      logicalId,
      type: 'AWS::Lambda::EventSourceMapping',
      how: 'disabled for the rehearsal',
      detail: "the rehearsal receives, invokes deliver and deletes as the mapping does, through deliver's role",
    });
  }
  for (const [logicalId, resource] of Object.entries(update.Resources)) {
    if (resource.Type === 'AWS::ApiGateway::Deployment')
      notes.push({
        logicalId,
        type: resource.Type,
        how: 'created, not emulated',
        detail: 'the stage throttle and the resource policy are not enforced by moto',
      });
    if (resource.Type === 'AWS::SNS::Subscription')
      notes.push({
        logicalId,
        type: resource.Type,
        how: 'created, not emulated',
        detail: 'no email is sent; the address confirms the subscription in AWS',
      });
  }
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: name }));
  const outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  return {
    name,
    facts: made.facts,
    outputs,
    notes,
    environmentOf: async (functionLogicalId) => {
      const physicalId = made.facts.resources[functionLogicalId]?.physicalId;
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: physicalId }));
      return { ...(configuration.Environment?.Variables ?? {}) };
    },
  };
};
