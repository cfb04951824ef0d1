import { readFileSync } from 'node:fs';
import {
  APIGatewayClient,
  CreateStageCommand,
  GetDeploymentsCommand,
  GetStageCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-api-gateway';
import type { StackResource as CfnResource } from '@aws-sdk/client-cloudformation';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DeleteDashboardsCommand,
  PutDashboardCommand,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { BOOTSTRAP_TEMPLATE } from './bootstrap';
import type { StackFacts } from './intrinsics';
import { resolveIntrinsics } from './intrinsics';
import type { PackagedTemplate } from './package';

/** Settings every client of the rehearsal uses: moto's endpoint, any credentials. */
export const motoClientConfig = (endpoint: string) =>
  ({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'rehearsal', secretAccessKey: 'rehearsal' },
    forcePathStyle: true,
  }) as const;

/**
 * Types moto's CloudFormation has no model for (it cannot resolve a reference to them): the deploy
 * proxy hands moto the template without them, and the rehearsal creates, updates and deletes each one
 * through its own service's API, resolved against the stack, as CloudFormation would. None is skipped.
 */
export const CREATED_THROUGH_THE_API = ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard', 'AWS::ApiGateway::Stage'] as const;
const UNMODELLED = new Set<string>(CREATED_THROUGH_THE_API);

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

const mentions = (value: unknown, ids: ReadonlySet<string>): boolean => {
  const text = JSON.stringify(value);
  return [...ids].some((id) => text.includes(`"${id}"`) || text.includes(`\${${id}`));
};

/** The template as moto gets it: without the types it cannot model, nor what names them. */
export const forMoto = (template: Record<string, unknown>): Record<string, unknown> => {
  const resources = (template.Resources ?? {}) as PackagedTemplate['Resources'];
  const dropped = new Set(Object.keys(resources).filter((id) => UNMODELLED.has(resources[id]?.Type ?? '')));
  return {
    ...template,
    Resources: Object.fromEntries(Object.entries(resources).filter(([id]) => !dropped.has(id))),
    Outputs: Object.fromEntries(Object.entries((template.Outputs ?? {}) as object).filter(([, output]) => !mentions(output, dropped))),
  };
};

export const waitForStack = async (cfn: CloudFormationClient, name: string, want: string): Promise<void> => {
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

/** infra/bootstrap.yml created in moto, as an administrator creates it once per account and region. */
export const createBootstrap = async (endpoint: string, repository: string): Promise<Record<string, string>> => {
  const cfn = new CloudFormationClient(motoClientConfig(endpoint));
  try {
    const name = 'threatstack-squadcast-relay-bootstrap';
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: readFileSync(BOOTSTRAP_TEMPLATE, 'utf8'),
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        Parameters: [{ ParameterKey: 'GitHubRepository', ParameterValue: repository }],
      }),
    );
    await waitForStack(cfn, name, 'CREATE_COMPLETE');
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } finally {
    cfn.destroy();
  }
};

const factsOf = (name: string, resources: readonly CfnResource[]): StackFacts => {
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

const idsOfType = (template: PackagedTemplate, type: string): string[] =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);

/** The alarm name the rehearsal gives an alarm (CloudFormation would add a random suffix). */
const alarmName = (stackName: string, logicalId: string): string => `${stackName}-${logicalId}`;

/**
 * The API-made resources of the template, created or updated as CloudFormation would after the stack's
 * own update: each alarm and the dashboard put again, the stage created, or moved to the Deployment this
 * template brought. `known` holds the deployments the stage has seen, so that a new one is recognised.
 */
const applyThroughApis = async (
  endpoint: string,
  template: PackagedTemplate,
  facts: StackFacts,
  knownDeployments: Set<string>,
): Promise<{ facts: StackFacts; notes: ResourceNote[] }> => {
  const config = motoClientConfig(endpoint);
  const cloudwatch = new CloudWatchClient(config);
  const apigateway = new APIGatewayClient(config);
  const notes: ResourceNote[] = [];
  let current = facts;
  try {
    for (const logicalId of idsOfType(template, 'AWS::ApiGateway::Stage')) {
      const props = template.Resources[logicalId]?.Properties ?? {};
      const restApiId = String(resolveIntrinsics(props.RestApiId, current));
      const stageName = String(props.StageName);
      const { items = [] } = await apigateway.send(new GetDeploymentsCommand({ restApiId }));
      const fresh = items.map((d) => d.id ?? '').filter((id) => !knownDeployments.has(id));
      for (const id of fresh) knownDeployments.add(id);
      const exists = await apigateway
        .send(new GetStageCommand({ restApiId, stageName }))
        .then(() => true)
        .catch(() => false);
      const deploymentId = fresh.at(-1);
      if (!exists) await apigateway.send(new CreateStageCommand({ restApiId, stageName, deploymentId: deploymentId ?? '' }));
      const [settings] = (props.MethodSettings ?? []) as Array<{ ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;
      await apigateway.send(
        new UpdateStageCommand({
          restApiId,
          stageName,
          patchOperations: [
            ...(exists && deploymentId !== undefined ? [{ op: 'replace' as const, path: '/deploymentId', value: deploymentId }] : []),
            { op: 'replace', path: '/*/*/throttling/rateLimit', value: String(settings?.ThrottlingRateLimit) },
            { op: 'replace', path: '/*/*/throttling/burstLimit', value: String(settings?.ThrottlingBurstLimit) },
          ],
        }),
      );
      const stage = await apigateway.send(new GetStageCommand({ restApiId, stageName }));
      current = { ...current, resources: { ...current.resources, [logicalId]: { type: 'AWS::ApiGateway::Stage', physicalId: stageName } } };
      notes.push({
        logicalId,
        type: 'AWS::ApiGateway::Stage',
        how: 'created through the API',
        detail: `${exists ? 'UpdateStage' : 'CreateStage'} ${stageName} -> deployment ${stage.deploymentId}, throttle ${JSON.stringify(stage.methodSettings?.['*/*']?.throttlingRateLimit)}/s`,
      });
    }
    for (const logicalId of idsOfType(template, 'AWS::CloudWatch::Alarm')) {
      const props = resolveIntrinsics(template.Resources[logicalId]?.Properties ?? {}, current) as Record<string, unknown>;
      const name = alarmName(facts.stackName, logicalId);
      await cloudwatch.send(new PutMetricAlarmCommand({ ...(props as object), AlarmName: name } as never));
      current = { ...current, resources: { ...current.resources, [logicalId]: { type: 'AWS::CloudWatch::Alarm', physicalId: name } } };
    }
    const alarms = idsOfType(template, 'AWS::CloudWatch::Alarm').length;
    if (alarms > 0)
      notes.push({
        logicalId: `${alarms} alarms`,
        type: 'AWS::CloudWatch::Alarm',
        how: 'created through the API',
        detail: 'PutMetricAlarm, each resolved against the stack',
      });
    for (const logicalId of idsOfType(template, 'AWS::CloudWatch::Dashboard')) {
      const props = resolveIntrinsics(template.Resources[logicalId]?.Properties ?? {}, current) as Record<string, unknown>;
      JSON.parse(String(props.DashboardBody));
      await cloudwatch.send(
        new PutDashboardCommand({ DashboardName: String(props.DashboardName), DashboardBody: String(props.DashboardBody) }),
      );
      notes.push({
        logicalId,
        type: 'AWS::CloudWatch::Dashboard',
        how: 'created through the API',
        detail: `PutDashboard ${String(props.DashboardName)}`,
      });
    }
  } finally {
    cloudwatch.destroy();
    apigateway.destroy();
  }
  return { facts: current, notes };
};

/** What a delete of the stack takes with it among the API-made resources (the stage goes with its API). */
export const removeThroughApis = async (endpoint: string, template: PackagedTemplate, stackName: string): Promise<void> => {
  const cloudwatch = new CloudWatchClient(motoClientConfig(endpoint));
  try {
    const alarms = idsOfType(template, 'AWS::CloudWatch::Alarm').map((id) => alarmName(stackName, id));
    if (alarms.length > 0) await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: alarms }));
    const dashboards = idsOfType(template, 'AWS::CloudWatch::Dashboard').map((id) =>
      String(template.Resources[id]?.Properties?.DashboardName),
    );
    if (dashboards.length > 0) await cloudwatch.send(new DeleteDashboardsCommand({ DashboardNames: dashboards }));
  } finally {
    cloudwatch.destroy();
  }
};

/**
 * The stack as `serverless deploy` left it in moto, with the API-made resources applied for `template`.
 * moto would hand messages to deliver itself (in Docker, which is not here): the rehearsal drives deliver
 * as the mapping would, so the mapping moto created is switched off.
 */
export const readStack = async (
  endpoint: string,
  name: string,
  template: PackagedTemplate,
  knownDeployments: Set<string>,
): Promise<RehearsedStack> => {
  const config = motoClientConfig(endpoint);
  const cfn = new CloudFormationClient(config);
  const lambda = new LambdaClient(config);
  try {
    const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: name }))).StackResources ?? [];
    const made = await applyThroughApis(endpoint, template, factsOf(name, resources), knownDeployments);
    const notes: ResourceNote[] = [...made.notes];
    const { EventSourceMappings = [] } = await lambda.send(new ListEventSourceMappingsCommand({}));
    for (const mapping of EventSourceMappings) {
      await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: false }));
      notes.push({
        logicalId: resources.find((r) => r.PhysicalResourceId === mapping.UUID)?.LogicalResourceId ?? 'EventSourceMapping',
        type: 'AWS::Lambda::EventSourceMapping',
        how: 'disabled for the rehearsal',
        detail: "the rehearsal receives, invokes deliver and deletes as the mapping does, through deliver's role",
      });
    }
    for (const [logicalId, resource] of Object.entries(template.Resources))
      if (resource.Type === 'AWS::SNS::Subscription')
        notes.push({
          logicalId,
          type: resource.Type,
          how: 'created, not emulated',
          detail: 'no email is sent; the address confirms the subscription in AWS',
        });
    // moto gives a stack made by a change set no outputs: they are resolved from the template, as CloudFormation does.
    const outputs = Object.fromEntries(
      Object.entries(template.Outputs ?? {}).flatMap(([key, output]) => {
        try {
          return [[key, String(resolveIntrinsics(output.Value, made.facts))]];
        } catch {
          return [];
        }
      }),
    );
    return {
      name,
      facts: made.facts,
      outputs,
      notes,
      environmentOf: async (functionLogicalId) => {
        const client = new LambdaClient(config);
        try {
          const physicalId = made.facts.resources[functionLogicalId]?.physicalId;
          const configuration = await client.send(new GetFunctionConfigurationCommand({ FunctionName: physicalId }));
          return { ...(configuration.Environment?.Variables ?? {}) };
        } finally {
          client.destroy();
        }
      },
    };
  } finally {
    cfn.destroy();
    lambda.destroy();
  }
};
