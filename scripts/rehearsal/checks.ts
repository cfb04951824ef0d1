import type { DeployCall } from './deploy-proxy';
import type { Datapoint } from './emf';
import type { PolicyDocument, Principal, Statement } from './iam';
import { evaluate } from './iam';
import type { StackFacts } from './intrinsics';
import { resolveIntrinsics } from './intrinsics';
import type { PackagedTemplate } from './package';
import type { AwsCall } from './recording-proxy';

/**
 * What the rehearsal checks against the packaged template: every AWS call a bundle made is allowed
 * by its function's role (action and resource), and every alarm reads a metric that exists (one the
 * bundles printed, or one AWS publishes for a resource of the stack).
 */

export interface Finding {
  readonly ok: boolean;
  readonly subject: string;
  readonly detail: string;
}

/** The function each caller stands for, and the role the template gives it (`Role: {Fn::Sub: ${XRole.Arn}}`). */
export const roleOf = (template: PackagedTemplate, functionLogicalId: string): string => {
  const role = template.Resources[functionLogicalId]?.Properties?.Role;
  const sub = (role as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'];
  const getAtt = (role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  const logicalId = sub !== undefined ? /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(sub)?.[1] : getAtt?.[0];
  if (logicalId === undefined) throw new Error(`${functionLogicalId}: its role is not a role of the template`);
  return logicalId;
};

/**
 * A role of the template as IAM sees it in the stack: its ARN (with its path), its policies resolved
 * against the stack, and its permissions boundary (infra/bootstrap.yml's, as `boundary` resolves it).
 */
export const principalOf = (template: PackagedTemplate, roleLogicalId: string, facts: StackFacts, boundary: PolicyDocument): Principal => {
  const props = template.Resources[roleLogicalId]?.Properties ?? {};
  const policies = (props.Policies ?? []) as ReadonlyArray<{ PolicyDocument: { Statement: unknown[] } }>;
  const path = typeof props.Path === 'string' ? props.Path : '/';
  const name = facts.resources[roleLogicalId]?.physicalId ?? roleLogicalId;
  return {
    arn: `arn:${facts.partition}:iam::${facts.account}:role${path}${name}`,
    policies: policies.map((policy) => ({
      Version: '2012-10-17',
      Statement: resolveIntrinsics(policy.PolicyDocument.Statement, facts) as Statement[],
    })),
    ...(props.PermissionsBoundary === undefined ? {} : { boundary }),
  };
};

/** The ARN a call names, as IAM evaluates it. */
export const resourceArnOf = (call: AwsCall, facts: StackFacts): string => {
  const { partition, region, account } = facts;
  switch (call.target.kind) {
    case 'queue':
      return `arn:${partition}:sqs:${region}:${account}:${call.target.name.split('/').pop()}`;
    case 'table':
      return `arn:${partition}:dynamodb:${region}:${account}:table/${call.target.name}`;
    case 'index':
      return `arn:${partition}:dynamodb:${region}:${account}:table/${call.target.table}/index/${call.target.name}`;
    case 'parameter':
      return `arn:${partition}:ssm:${region}:${account}:parameter${call.target.name.startsWith('/') ? '' : '/'}${call.target.name}`;
    case 'none':
      return '*';
  }
};

/**
 * Every recorded call, checked with the IAM evaluator against its caller's role in the template and the
 * role's permissions boundary. `functionOfCaller` maps each caller (a function, or the event source
 * mapping) to the function whose role it uses.
 */
export const checkCalls = async (
  template: PackagedTemplate,
  facts: StackFacts,
  calls: readonly AwsCall[],
  functionOfCaller: Readonly<Record<string, string>>,
  boundary: PolicyDocument,
): Promise<Finding[]> => {
  const seen = new Map<string, Finding>();
  for (const call of calls) {
    const functionLogicalId = functionOfCaller[call.caller];
    if (functionLogicalId === undefined) throw new Error(`a call from ${call.caller}, which is no function of the stack`);
    const role = roleOf(template, functionLogicalId);
    const arn = resourceArnOf(call, facts);
    const key = `${call.caller} ${call.action} ${arn}`;
    if (seen.has(key)) continue;
    const verdict = await evaluate(principalOf(template, role, facts, boundary), { action: call.action, resource: arn });
    const ok = verdict === 'Allowed';
    seen.set(key, {
      ok,
      subject: `${call.caller} → ${call.action}`,
      detail: `${arn} (${ok ? `allowed by ${role} and its boundary` : `${verdict} for ${role}`})`,
    });
  }
  return [...seen.values()];
};

/** No permission is needed for these: IAM does not gate them. https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html */
const UNGATED = new Set(['sts:GetCallerIdentity']);

/** Every call the deploy CLI made as the deploy identity, checked against the GitHub deploy role of infra/bootstrap.yml. */
export const checkDeployCalls = async (calls: readonly DeployCall[], deployRole: Principal): Promise<Finding[]> => {
  const seen = new Map<string, Finding>();
  for (const call of calls) {
    // One line per artifact and per stack, whichever deploy's directory or stack id the call named.
    const shown = call.resource.replace(/(\/serverless\/[^/]+\/[^/]+\/)[^/]+\//, '$1<deploy>/').replace(/(:stack\/[^/]+\/).+$/, '$1*');
    const key = `${call.action} ${shown} ${JSON.stringify(call.context)}`;
    const verdict = UNGATED.has(call.action) ? 'Allowed' : await evaluate(deployRole, call);
    if (seen.get(key)?.ok === false) continue;
    seen.set(key, {
      ok: verdict === 'Allowed',
      subject: `deploy identity → ${call.action}`,
      detail: `${shown}${Object.keys(call.context).length > 0 ? ` ${JSON.stringify(call.context)}` : ''} (${verdict === 'Allowed' ? (UNGATED.has(call.action) ? 'needs no permission' : 'allowed') : verdict})`,
    });
  }
  return [...seen.values()];
};

interface MetricRef {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** The metrics an alarm reads (its own, or each of its metric queries'), resolved against the stack. */
const metricsOfAlarm = (props: Record<string, unknown>): MetricRef[] => {
  const dims = (list: unknown): Record<string, string> =>
    Object.fromEntries(((list ?? []) as Array<{ Name: string; Value: unknown }>).map((d) => [d.Name, String(d.Value)]));
  if (props.Metrics === undefined)
    return [{ namespace: String(props.Namespace), name: String(props.MetricName), dimensions: dims(props.Dimensions) }];
  return (props.Metrics as Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown } } }>).flatMap(
    (q) =>
      q.MetricStat === undefined
        ? []
        : [
            {
              namespace: q.MetricStat.Metric.Namespace,
              name: q.MetricStat.Metric.MetricName,
              dimensions: dims(q.MetricStat.Metric.Dimensions),
            },
          ],
  );
};

const identity = (metric: MetricRef): string =>
  `${metric.namespace} ${metric.name} {${Object.entries(metric.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}}`;

/** AWS publishes these for a resource of the stack: the dimension must name one that exists. */
const awsPublished = (metric: MetricRef, template: PackagedTemplate, facts: StackFacts): string | undefined => {
  const of = (type: string): string[] =>
    Object.values(facts.resources)
      .filter((r) => r.type === type)
      .map((r) => r.physicalId);
  const [dimension, value] = Object.entries(metric.dimensions)[0] ?? ['', ''];
  if (metric.namespace === 'AWS/SQS' && dimension === 'QueueName')
    return of('AWS::SQS::Queue').some((url) => url.endsWith(`/${value}`)) ? undefined : `no queue named ${value}`;
  if (metric.namespace === 'AWS/Lambda' && dimension === 'FunctionName')
    return of('AWS::Lambda::Function').includes(value) ? undefined : `no function named ${value}`;
  if (metric.namespace === 'AWS/ApiGateway') {
    const api = Object.values(template.Resources).find((r) => r.Type === 'AWS::ApiGateway::RestApi')?.Properties?.Name;
    const stage = Object.values(template.Resources).find((r) => r.Type === 'AWS::ApiGateway::Stage')?.Properties?.StageName;
    return metric.dimensions.ApiName === api && metric.dimensions.Stage === stage
      ? undefined
      : `no API ${metric.dimensions.ApiName} stage ${metric.dimensions.Stage}`;
  }
  return `${metric.namespace} is not a namespace the rehearsal knows`;
};

/**
 * Every alarm's metrics exist: the relay's own ones were printed by a bundle during the rehearsal
 * under exactly that namespace, name and dimension set; an AWS one names a resource of the stack.
 */
export const checkAlarmMetrics = (template: PackagedTemplate, facts: StackFacts, printed: readonly Datapoint[]): Finding[] => {
  const emitted = new Set(printed.map((p) => identity({ namespace: p.namespace, name: p.name, dimensions: p.dimensions })));
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .flatMap(([logicalId, resource]) => {
      const props = resolveIntrinsics(resource.Properties ?? {}, facts) as Record<string, unknown>;
      return metricsOfAlarm(props).map((metric): Finding => {
        if (metric.namespace.startsWith('AWS/')) {
          const problem = awsPublished(metric, template, facts);
          return {
            ok: problem === undefined,
            subject: `${logicalId} → ${metric.namespace} ${metric.name}`,
            detail: problem ?? 'published by AWS for a resource of the stack',
          };
        }
        const ok = emitted.has(identity(metric));
        return {
          ok,
          subject: `${logicalId} → ${metric.name}`,
          detail: ok ? 'printed by the bundles' : `NOT printed by any bundle: ${identity(metric)}`,
        };
      });
    });
};
