import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { RelayStatusCodec } from '../lib/status/relay-status';
import { parseOptions } from './args';
import type { Io } from './cli';
import { CliError, checkStage, functionName, invokeFunction, lambdaFor, runMain, SERVICE } from './cli';
import type { ChosenRegion } from './stage-settings';
import { regionFor } from './stage-settings';
import { run as testAlert } from './test-alert';

const USAGE = [
  'usage: npm run smoke -- --stage <stage> [--region <region>] [--test-alert]',
  '  After a deploy: invokes the status function and checks its answer, and POSTs to the webhook',
  '  from here (not a Threat Stack address), which must be refused with 403. --test-alert also',
  '  sends a labelled test incident through the real path and waits for it.',
].join('\n');

export interface SmokeDeps {
  readonly lambda: (region: string) => LambdaClient;
  /** The stack's outputs (WebhookUrl, ...), by CloudFormation's DescribeStacks. */
  readonly outputs: (stackName: string, region: string) => Promise<Record<string, string>>;
  readonly fetch: typeof fetch;
  readonly region?: (flag: string | undefined, stage: string) => Promise<ChosenRegion>;
}

const stackOutputs = async (stackName: string, region: string): Promise<Record<string, string>> => {
  const client = new CloudFormationClient({ region });
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } finally {
    client.destroy();
  }
};

const defaultDeps: SmokeDeps = { lambda: lambdaFor, outputs: stackOutputs, fetch, region: regionFor };

/** The webhook URL with a token that cannot be the stage's (the real one is a secret in SSM). */
const probeUrl = (webhookUrl: string): string => webhookUrl.replace('<token>', 'smoke-test-not-the-token');

/** `npm run smoke`: proves a deployed stage answers, from CI right after `serverless deploy`. */
export const run = async (argv: readonly string[], io: Io, deps: SmokeDeps = defaultDeps): Promise<number> => {
  const options = parseOptions(
    argv,
    { stage: { type: 'string' }, region: { type: 'string' }, 'test-alert': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  const stage = checkStage(options.stage, USAGE);
  const { region, from } = await (deps.region ?? regionFor)(options.region, stage);
  io.out(`Smoke test of stage ${stage} in ${region} (${from}).`);
  const failures: string[] = [];

  try {
    const status = await invokeFunction(deps.lambda(region), functionName(stage, 'status'), {}, RelayStatusCodec);
    io.out(
      `  ok    status answers: ${status.active ? 'active' : 'inactive'}, ${status.incidentsLast30Days} incidents in 30 days, ` +
        `${status.queue.pending} waiting, ${status.queue.deadLetter} dead letters`,
    );
  } catch (error) {
    failures.push(`the status function: ${(error as Error).message}. Look at its log group /aws/lambda/${functionName(stage, 'status')}.`);
  }

  try {
    const outputs = await deps.outputs(`${SERVICE}-${stage}`, region);
    const webhookUrl = outputs.WebhookUrl;
    if (webhookUrl === undefined || webhookUrl === '') throw new CliError(`the stack ${SERVICE}-${stage} has no WebhookUrl output`);
    const response = await deps.fetch(probeUrl(webhookUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"alerts":[]}',
      signal: AbortSignal.timeout(15_000),
    });
    if (response.status === 403) io.out('  ok    the webhook refuses a caller that is not Threat Stack: 403');
    else
      failures.push(
        `the webhook answered ${response.status}, not 403, to a call from outside Threat Stack's addresses: check the API's resource policy (custom.allowedSourceIps) and ingest's log`,
      );
  } catch (error) {
    failures.push(`the webhook could not be reached: ${(error as Error).message}`);
  }

  if (options['test-alert'] && failures.length === 0) {
    const code = await testAlert(['--stage', stage, '--region', region], io, { lambda: deps.lambda, fetch: deps.fetch });
    if (code !== 0) failures.push('the test alert did not become an incident: see the lines above, and the deliver log');
  }

  if (failures.length === 0) {
    io.out(`Stage ${stage} answers as it should.`);
    return 0;
  }
  for (const failure of failures) io.err(`  FAIL  ${failure}`);
  io.err('To go back to the version that worked, deploy the previous commit again (docs/operator-guide.md, "Rollback").');
  return 1;
};

if (require.main === module) runMain((argv, io) => run(argv, io));
