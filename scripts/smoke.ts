import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import * as t from 'io-ts';
import { SMOKE_TEST_MARK } from '../lib/ingest/api-gateway';
import { RelayStatusCodec } from '../lib/status/relay-status';
import { webhookEvent } from '../local/api-gateway-event';
import { parseOptions } from './args';
import type { Io } from './cli';
import { CliError, checkStage, invokeFunction, lambdaFor, runMain, SERVICE } from './cli';
import type { ChosenRegion } from './stage-settings';
import { readAllowedSourceIps, readStageSettings, regionFor } from './stage-settings';
import { run as testAlert } from './test-alert';

/** An alert id Threat Stack never sends: the status looks it up and finds no record. */
const SMOKE_ALERT_ID = 'relay-smoke-check';

const USAGE = [
  'usage: npm run smoke -- --stage <stage> [--region <region>] [--test-alert]',
  '  After a deploy, proves the stage can do its job without paging anyone:',
  '  - the status function answers;',
  "  - the webhook refuses a caller that is not Threat Stack (403, from the API's resource policy);",
  '  - ingest, invoked directly from an allowed address with a wrong token, refuses it (403): it read the',
  '    token parameter (a 503 means it could not);',
  '  - deliver, invoked with no record, reads the Squadcast URL parameter;',
  '  - every e-mail subscription of the alarm topic is confirmed (else the alarms reach nobody).',
  '  --test-alert also sends a labelled test incident through the real path and waits for it.',
].join('\n');

export interface Subscription {
  readonly endpoint: string;
  readonly protocol: string;
  /** `PendingConfirmation` until the address clicked the link. */
  readonly arn: string;
}

export interface SmokeDeps {
  readonly lambda: (region: string) => LambdaClient;
  /** The stack's outputs (WebhookUrl, AlarmTopicArn, ...), by CloudFormation's DescribeStacks. */
  readonly outputs: (stackName: string, region: string) => Promise<Record<string, string>>;
  readonly subscriptions: (topicArn: string, region: string) => Promise<Subscription[]>;
  readonly fetch: typeof fetch;
  readonly region?: (flag: string | undefined, stage: string) => Promise<ChosenRegion>;
  readonly settings?: (stage: string) => Record<string, string>;
  readonly allowedSourceIps?: () => readonly string[];
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

const topicSubscriptions = async (topicArn: string, region: string): Promise<Subscription[]> => {
  const client = new SNSClient({ region });
  try {
    const found: Subscription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
      for (const s of page.Subscriptions ?? [])
        found.push({ endpoint: s.Endpoint ?? '', protocol: s.Protocol ?? '', arn: s.SubscriptionArn ?? '' });
      NextToken = page.NextToken;
    } while (NextToken !== undefined);
    return found;
  } finally {
    client.destroy();
  }
};

const defaultDeps: SmokeDeps = { lambda: lambdaFor, outputs: stackOutputs, subscriptions: topicSubscriptions, fetch, region: regionFor };

/** The webhook URL with a token that cannot be the stage's (the real one is a secret in SSM). */
const probeUrl = (webhookUrl: string): string => webhookUrl.replace('<token>', 'smoke-test-not-the-token');

const ApiAnswerCodec = t.type({ statusCode: t.number, body: t.string });
const BatchAnswerCodec = t.type({ batchItemFailures: t.array(t.unknown) });

/** Each check: its success line, or the failure to report. */
type Check = () => Promise<string>;

/** `npm run smoke`: proves a deployed stage can do its job, from CI right after `serverless deploy`. */
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
  const lambda = deps.lambda(region);
  const fn = (name: string): string => `${SERVICE}-${stage}-${name}`;
  const outputs = deps.outputs(`${SERVICE}-${stage}`, region);

  const checks: ReadonlyArray<readonly [string, Check]> = [
    [
      'the status function',
      async () => {
        // With an alert id no alert has: its role's read of one ledger record (test-alert's wait) is tried too.
        const status = await invokeFunction(lambda, fn('status'), { alertId: SMOKE_ALERT_ID }, RelayStatusCodec);
        if (status.alert?.id !== SMOKE_ALERT_ID)
          throw new CliError('the status function did not look the alert id up: deploy this version');
        return `status answers: ${status.active ? 'active' : 'inactive'}, ${status.incidentsLast30Days} incidents in 30 days, ${status.queue.pending} waiting, ${status.queue.deadLetter} dead letters`;
      },
    ],
    [
      'the webhook',
      async () => {
        const webhookUrl = (await outputs).WebhookUrl;
        if (webhookUrl === undefined || webhookUrl === '') throw new CliError(`the stack ${SERVICE}-${stage} has no WebhookUrl output`);
        const response = await deps.fetch(probeUrl(webhookUrl), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"alerts":[]}',
          signal: AbortSignal.timeout(15_000),
        });
        if (response.status !== 403)
          throw new CliError(
            `the webhook answered ${response.status}, not 403, to a call from outside Threat Stack's addresses: check the API's resource policy (custom.allowedSourceIps) and ingest's log`,
          );
        return 'the webhook refuses a caller that is not Threat Stack: 403';
      },
    ],
    [
      'the webhook token parameter',
      async () => {
        const [address] = (deps.allowedSourceIps ?? readAllowedSourceIps)();
        const event = webhookEvent({
          token: 'smoke-test-not-the-token',
          body: '{"alerts":[]}',
          sourceIp: address ?? '',
          stage,
          requestId: 'smoke-test',
        });
        const marked = { ...event, requestContext: { ...event.requestContext, [SMOKE_TEST_MARK]: true } };
        const answer = await invokeFunction(lambda, fn('ingest'), marked, ApiAnswerCodec);
        if (answer.statusCode === 403)
          return `ingest read the webhook token from SSM: a wrong one from ${address} is refused with 403 (not counted: a smoke test)`;
        if (answer.statusCode === 503)
          throw new CliError(
            `ingest could not read the webhook token (503): create or fix /threatstack-squadcast-relay/${stage}/webhook-token (docs/operator-guide.md, step 2) and look at ingest's log`,
          );
        throw new CliError(`ingest answered ${answer.statusCode} to a wrong token from ${address}, not 403`);
      },
    ],
    [
      'the Squadcast URL parameter',
      async () => {
        // No record: deliver reads its secret and sends nothing. A failed read is a function error.
        await invokeFunction(lambda, fn('deliver'), { Records: [] }, BatchAnswerCodec).catch((error: unknown) => {
          throw new CliError(
            `${(error as Error).message}: create or fix /threatstack-squadcast-relay/${stage}/squadcast-webhook-url (docs/operator-guide.md, step 2)`,
          );
        });
        return 'deliver read the Squadcast URL from SSM (invoked with no record: nothing sent)';
      },
    ],
    [
      'the alarm subscriptions',
      async () => {
        const externalTopic = (deps.settings ?? readStageSettings)(stage).alarmTopicArn ?? '';
        if (externalTopic.trim() !== '')
          return `alarms go to ${externalTopic.trim()} (alarmTopicArn): its subscriptions are its owner's to check`;
        const topic = (await outputs).AlarmTopicArn;
        if (topic === undefined || topic === '') throw new CliError(`the stack ${SERVICE}-${stage} has no AlarmTopicArn output`);
        const subscriptions = await deps.subscriptions(topic, region);
        const pending = subscriptions.filter((s) => s.arn === 'PendingConfirmation');
        if (pending.length > 0)
          throw new CliError(
            `${pending.map((s) => s.endpoint).join(', ')} ${pending.length === 1 ? 'has' : 'have'} not confirmed the alarm subscription: until then no alarm reaches ${pending.length === 1 ? 'that address' : 'them'}. ` +
              "Each must open the e-mail 'AWS Notification - Subscription Confirmation' (from no-reply@sns.amazonaws.com) and click 'Confirm subscription'; " +
              `to send it again: aws sns subscribe --region ${region} --topic-arn ${topic} --protocol email --notification-endpoint <address>`,
          );
        return subscriptions.length === 0
          ? 'the alarm topic has no subscriber (alarmEmail: none)'
          : `every alarm subscription is confirmed (${subscriptions.map((s) => `${s.protocol}:${s.endpoint}`).join(', ')})`;
      },
    ],
  ];

  const failures: string[] = [];
  for (const [what, check] of checks) {
    try {
      io.out(`  ok    ${await check()}`);
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
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
