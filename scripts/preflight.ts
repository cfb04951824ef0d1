import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetAccountSettingsCommand, GetFunctionCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parseOptions } from './args';
import type { Io } from './cli';
import { checkStage, runMain, SERVICE } from './cli';
import type { ChosenRegion } from './stage-settings';
import { readStageSettings, regionFor } from './stage-settings';

const names = require('../infra/aws-names.js') as {
  deploymentBucketName(service: string, account: string, region: string): string;
  cloudFormationRoleArn(service: string, account: string, region: string): string;
};

const USAGE = [
  'usage: npm run preflight -- --stage <stage> [--region <region>]',
  '  Before `serverless deploy`: refuses, saying what to do, a deploy AWS would refuse or fail halfway:',
  "  credentials of another account than the stage's `account`, no bootstrap (infra/bootstrap.yml) in",
  '  the account and region, a Lambda concurrency quota too low for deliverReservedConcurrency, or a',
  '  stack that cannot take an update (a failed first deploy, a failed rollback, a deploy under way).',
].join('\n');

/** What the account says about Lambda concurrency. https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html */
export interface LambdaQuota {
  readonly limit: number;
  readonly unreserved: number;
}

export interface PreflightDeps {
  readonly account: (region: string) => Promise<string>;
  readonly bucketExists: (bucket: string, region: string) => Promise<boolean>;
  readonly lambdaQuota: (region: string) => Promise<LambdaQuota>;
  /** The reserved concurrency a function has now (0 when none, or when it does not exist yet). */
  readonly reservedNow: (functionName: string, region: string) => Promise<number>;
  /** The stack's status, undefined when there is no stack. */
  readonly stackStatus: (stackName: string, region: string) => Promise<string | undefined>;
  readonly region?: (flag: string | undefined, stage: string) => Promise<ChosenRegion>;
  readonly settings?: (stage: string) => Record<string, string>;
}

/** Lambda keeps this much of an account's concurrency unreserved. https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html */
export const UNRESERVED_FLOOR = 100;

const withClient = async <C extends { destroy(): void }, R>(client: C, use: (client: C) => Promise<R>): Promise<R> => {
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
};

const defaultDeps: PreflightDeps = {
  account: (region) =>
    withClient(new STSClient({ region }), async (sts) => (await sts.send(new GetCallerIdentityCommand({}))).Account ?? ''),
  bucketExists: (bucket, region) =>
    withClient(new S3Client({ region }), (s3) =>
      s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
        () => true,
        (error: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
          if (error?.name === 'NotFound' || error?.$metadata?.httpStatusCode === 404) return false;
          throw error;
        },
      ),
    ),
  lambdaQuota: (region) =>
    withClient(new LambdaClient({ region }), async (lambda) => {
      const { AccountLimit } = await lambda.send(new GetAccountSettingsCommand({}));
      return { limit: AccountLimit?.ConcurrentExecutions ?? 0, unreserved: AccountLimit?.UnreservedConcurrentExecutions ?? 0 };
    }),
  reservedNow: (functionName, region) =>
    withClient(new LambdaClient({ region }), (lambda) =>
      lambda.send(new GetFunctionCommand({ FunctionName: functionName })).then(
        (fn) => fn.Concurrency?.ReservedConcurrentExecutions ?? 0,
        (error: unknown) => {
          if (error instanceof ResourceNotFoundException) return 0;
          throw error;
        },
      ),
    ),
  stackStatus: (stackName, region) =>
    withClient(new CloudFormationClient({ region }), (cfn) =>
      cfn.send(new DescribeStacksCommand({ StackName: stackName })).then(
        ({ Stacks }) => Stacks?.[0]?.StackStatus,
        (error: Error) => {
          if (/does not exist/.test(error?.message ?? '')) return undefined;
          throw error;
        },
      ),
    ),
  region: regionFor,
};

/** What to do about a stack in each state an update cannot start from. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html */
const stackAdvice = (status: string, stackName: string, region: string, role: string): string | undefined => {
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED')
    return (
      `the stack ${stackName} is ${status}: its first deploy failed, and CloudFormation cannot update it. Nothing was serving. ` +
      `Remove it (npx serverless remove --stage <stage> --region ${region}), wait a minute (SQS reuses a queue name 60 s after a delete), fix the cause, deploy again`
    );
  if (status === 'UPDATE_ROLLBACK_FAILED')
    return (
      `the stack ${stackName} is UPDATE_ROLLBACK_FAILED: a rollback could not finish. Fix what its events name, then ` +
      `aws cloudformation continue-update-rollback --region ${region} --stack-name ${stackName} --role-arn ${role}`
    );
  if (status.endsWith('_IN_PROGRESS'))
    return `the stack ${stackName} is ${status}: another deploy or a rollback is under way; run again when it has ended`;
  if (status === 'DELETE_FAILED')
    return `the stack ${stackName} is DELETE_FAILED: finish removing it (its events name what stood in the way)`;
  return undefined;
};

/** `npm run preflight`: what would make `serverless deploy` fail, found before anything changes. */
export const run = async (argv: readonly string[], io: Io, deps: PreflightDeps = defaultDeps): Promise<number> => {
  const options = parseOptions(
    argv,
    { stage: { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  const stage = checkStage(options.stage, USAGE);
  const settings = (deps.settings ?? readStageSettings)(stage);
  const { region, from } = await (deps.region ?? regionFor)(options.region, stage);
  io.out(`Preflight of stage ${stage} in ${region} (${from}).`);
  const refusals: string[] = [];
  const ok = (line: string) => io.out(`  ok    ${line}`);

  const account = (settings.account ?? '').trim();
  const caller = await deps.account(region);
  if (!/^\d{12}$/.test(account))
    refusals.push(`serverless.yml names no account for stage ${stage}: set params.${stage}.account to the 12-digit account it deploys to`);
  else if (caller !== account)
    refusals.push(
      `these credentials are of account ${caller}, but stage ${stage} deploys to ${account} (serverless.yml params.${stage}.account): use the role of that account, or correct the setting`,
    );
  else ok(`credentials of account ${account}, the stage's`);

  if (refusals.length === 0) {
    const bucket = names.deploymentBucketName(SERVICE, account, region);
    if (await deps.bucketExists(bucket, region)) ok(`the deployment bucket ${bucket} exists (infra/bootstrap.yml)`);
    else
      refusals.push(
        `no deployment bucket ${bucket}: create infra/bootstrap.yml in account ${account}, region ${region} first (docs/operator-guide.md, "Bootstrap")`,
      );
  }

  const wanted = (settings.deliverReservedConcurrency ?? '').trim().toLowerCase();
  if (wanted !== '' && wanted !== 'none') {
    const quota = await deps.lambdaQuota(region);
    const held = await deps.reservedNow(`${SERVICE}-${stage}-deliver`, region);
    const after = quota.unreserved + held - Number(wanted);
    if (after < UNRESERVED_FLOOR)
      refusals.push(
        `deliverReservedConcurrency ${wanted} does not fit: the account's Lambda concurrency quota is ${quota.limit}, ${quota.unreserved} of it unreserved, ` +
          `and Lambda keeps ${UNRESERVED_FLOOR} unreserved (the deploy would fail halfway). Ask for a higher quota (Service Quotas, AWS Lambda, ` +
          `"Concurrent executions"), or set params.${stage}.deliverReservedConcurrency: none in serverless.yml`,
      );
    else ok(`deliverReservedConcurrency ${wanted} fits: ${after} of the account's ${quota.limit} stay unreserved`);
  } else ok("deliverReservedConcurrency: none (deliver shares the account's unreserved concurrency)");

  const stackName = `${SERVICE}-${stage}`;
  const status = await deps.stackStatus(stackName, region);
  const advice =
    status === undefined ? undefined : stackAdvice(status, stackName, region, names.cloudFormationRoleArn(SERVICE, account, region));
  if (advice !== undefined) refusals.push(advice);
  else ok(status === undefined ? `no stack ${stackName} yet: this deploy creates it` : `the stack ${stackName} is ${status}`);

  if (refusals.length === 0) {
    io.out(`Stage ${stage} can be deployed.`);
    return 0;
  }
  for (const refusal of refusals) io.err(`  REFUSED  ${refusal}`);
  return 1;
};

if (require.main === module) runMain((argv, io) => run(argv, io));
