import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { PolicyDocument, Principal } from './iam';
import { PROJECT_ROOT } from './package';

const names = require('../../infra/aws-names.js') as {
  partitionOf(region: string): string;
  deploymentBucketName(service: string, account: string, region: string): string;
  cloudFormationRoleArn(service: string, account: string, region: string): string;
  functionBoundaryArn(service: string, account: string, region: string): string;
};

/**
 * infra/bootstrap.yml, resolved for one account and region as CloudFormation would resolve it: the
 * principals it creates (with their policies), the boundary, the bucket. What the deploy rehearsal and
 * tests/infra/bootstrap.test.ts evaluate with the IAM evaluator.
 */
export const BOOTSTRAP_TEMPLATE = join(PROJECT_ROOT, 'infra', 'bootstrap.yml');

export interface BootstrapTemplate {
  readonly Parameters: Record<string, { readonly Default?: string }>;
  readonly Resources: Record<string, { readonly Type: string; readonly Properties: Record<string, unknown>; readonly Condition?: string }>;
}

export const readBootstrap = (): BootstrapTemplate => parse(readFileSync(BOOTSTRAP_TEMPLATE, 'utf8')) as BootstrapTemplate;

export interface BootstrapFacts {
  readonly account: string;
  readonly region: string;
  readonly service?: string;
  readonly repository?: string;
  readonly environment?: string;
}

export interface Bootstrap {
  readonly template: BootstrapTemplate;
  readonly service: string;
  readonly bucket: { readonly name: string; readonly arn: string };
  readonly boundary: { readonly arn: string; readonly policy: PolicyDocument };
  readonly cloudFormationRole: Principal & { readonly trust: PolicyDocument };
  readonly gitHubRole: Principal & { readonly trust: PolicyDocument };
}

/** Fn::Sub, Ref and Fn::GetAtt of this template, resolved for the facts (any other intrinsic is an error). */
const resolver = (facts: Required<BootstrapFacts>) => {
  const partition = names.partitionOf(facts.region);
  const bucket = names.deploymentBucketName(facts.service, facts.account, facts.region);
  const values: Record<string, string> = {
    'AWS::Partition': partition,
    'AWS::Region': facts.region,
    'AWS::AccountId': facts.account,
    ServiceName: facts.service,
    GitHubRepository: facts.repository,
    GitHubEnvironment: facts.environment,
    DeploymentBucket: bucket,
    'DeploymentBucket.Arn': `arn:${partition}:s3:::${bucket}`,
    FunctionBoundary: names.functionBoundaryArn(facts.service, facts.account, facts.region),
    'CloudFormationRole.Arn': names.cloudFormationRoleArn(facts.service, facts.account, facts.region),
    'GitHubDeployRole.Arn': `arn:${partition}:iam::${facts.account}:role/${facts.service}-deploy/${facts.service}-${facts.region}-github`,
  };
  const lookup = (key: string): string => {
    const value = values[key];
    if (value === undefined) throw new Error(`infra/bootstrap.yml: cannot resolve ${key}`);
    return value;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key === 'Fn::Sub' && typeof argument === 'string')
      return argument.replace(/\$\{([^}]+)\}/g, (_, name: string) => lookup(name));
    if (entries.length === 1 && key === 'Ref') return lookup(String(argument));
    if (entries.length === 1 && key === 'Fn::GetAtt') return lookup((argument as string[]).join('.'));
    if (key?.startsWith('Fn::') && entries.length === 1) throw new Error(`infra/bootstrap.yml: ${key} is not resolved here`);
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  };
  return { resolve, values };
};

const policiesOf = (resource: { Properties: Record<string, unknown> }, resolve: (v: unknown) => unknown): PolicyDocument[] =>
  ((resource.Properties.Policies ?? []) as Array<{ PolicyDocument: unknown }>).map((p) => resolve(p.PolicyDocument) as PolicyDocument);

/** infra/bootstrap.yml for an account and region (the parameters' defaults where a fact is not given). */
export const bootstrapFor = (given: BootstrapFacts, template: BootstrapTemplate = readBootstrap()): Bootstrap => {
  const facts: Required<BootstrapFacts> = {
    service: template.Parameters.ServiceName?.Default ?? '',
    repository: 'example-org/threatstack-squadcast-relay',
    environment: template.Parameters.GitHubEnvironment?.Default ?? 'prod',
    ...given,
  };
  const { resolve, values } = resolver(facts);
  const resource = (id: string) => {
    const found = template.Resources[id];
    if (found === undefined) throw new Error(`infra/bootstrap.yml has no ${id}`);
    return found;
  };
  const role = (id: string, arnKey: string) => ({
    arn: values[arnKey] ?? '',
    policies: policiesOf(resource(id), resolve),
    trust: resolve(resource(id).Properties.AssumeRolePolicyDocument) as PolicyDocument,
  });
  return {
    template,
    service: facts.service,
    bucket: { name: values.DeploymentBucket ?? '', arn: values['DeploymentBucket.Arn'] ?? '' },
    boundary: {
      arn: values.FunctionBoundary ?? '',
      policy: resolve(resource('FunctionBoundary').Properties.PolicyDocument) as PolicyDocument,
    },
    cloudFormationRole: role('CloudFormationRole', 'CloudFormationRole.Arn'),
    gitHubRole: role('GitHubDeployRole', 'GitHubDeployRole.Arn'),
  };
};
