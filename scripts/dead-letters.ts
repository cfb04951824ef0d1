import { appendFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-cloudwatch-logs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { Message } from '@aws-sdk/client-sqs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { truncate } from '../lib/common/text';
import { queuedAlertId, readQueuedMessage } from '../lib/queue/messages';
import type { RelayStatus } from '../lib/status/relay-status';
import { RelayStatusCodec } from '../lib/status/relay-status';
import { LOCAL_DEFAULTS } from '../local/stack';
import { commandOptions } from './args';
import type { Io } from './cli';
import { CliError, functionName, invokeFunction, lambdaFor, runMain, SERVICE } from './cli';
import type { DeadLetterEntry } from './dead-letter-describe';
import { describeDeadLetter, describeLine } from './dead-letter-describe';
import { DEAD_LETTERS_READ_LIMIT, deleteDeadLetter, readDeadLetters } from './dead-letter-reads';
import type { QueueDeps, QueueTarget } from './queue-target';
import { maxReceiveCountOf, openQueues } from './queue-target';
import { regionFor } from './stage-settings';
import { readLocalStatus } from './status';

const USAGE = [
  'usage: npm run dead-letters -- --stage <stage> [--region <region>] [--json]',
  '       npm run dead-letters -- --local [--port <port>] [--json]   (the `npm start` stack)',
  '       npm run dead-letters -- --stage <stage> | --local  --discard <message id> --reason "<why>" [--yes]',
  '  Lists every dead letter: the alert, why it is there (with the field path), when it was first',
  '  accepted and how many times deliver had tried it. Nothing is moved or left hidden.',
  '  --discard settles one for good (one that a redrive cannot deliver, such as an element of a batch',
  '  that is not an alert): it is shown, removed after you confirm, and recorded with your reason in',
  "  the stage's operations log (the stack's output OperationsLogGroupName), or the local one.",
].join('\n');

/** Where a discard is recorded: the stage's operations log group, or the local stack's file. */
export interface OperationsLog {
  record(entry: Record<string, unknown>): Promise<string>;
}

export interface DeadLettersDeps extends QueueDeps {
  readonly operationsLog: (target: QueueTarget) => OperationsLog;
  readonly who: () => string;
  /** A Lambda client for the stage's region: the status function looks an alert's record up. */
  readonly lambda: (region: string) => LambdaClient;
}

/** The stage's operations log group: CloudFormation names it, the stack's output says which. */
const operationsLogGroup = async (target: QueueTarget): Promise<string> => {
  const stackName = `${SERVICE}-${target.stage}`;
  const cloudformation = new CloudFormationClient(target.region === undefined ? {} : { region: target.region });
  try {
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const group = Stacks[0]?.Outputs?.find((o) => o.OutputKey === 'OperationsLogGroupName')?.OutputValue;
    if (group === undefined || group === '')
      throw new CliError(`the stack ${stackName} has no OperationsLogGroupName output: deploy this version first`);
    return group;
  } finally {
    cloudformation.destroy();
  }
};

const cloudWatchLog = (target: QueueTarget): OperationsLog => ({
  record: async (entry) => {
    const group = await operationsLogGroup(target);
    const stream = `dead-letters-${new Date().toISOString().slice(0, 10)}`;
    const logs = new CloudWatchLogsClient(target.region === undefined ? {} : { region: target.region });
    try {
      await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })).catch((error: unknown) => {
        if (!(error instanceof ResourceAlreadyExistsException)) throw error;
      });
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: stream,
          logEvents: [{ timestamp: Date.now(), message: JSON.stringify(entry) }],
        }),
      );
      return `${group} (stream ${stream})`;
    } finally {
      logs.destroy();
    }
  },
});

const localLog = (target: QueueTarget): OperationsLog => ({
  record: async (entry) => {
    if (target.localOperationsLog === undefined) return 'nowhere: the local relay runs ephemeral (nothing it holds is kept)';
    appendFileSync(target.localOperationsLog, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    return target.localOperationsLog;
  },
});

const defaultDeps: DeadLettersDeps = {
  sqs: (config) => new SQSClient(config),
  lambda: lambdaFor,
  fetch,
  region: regionFor,
  operationsLog: (target) => (target.stage === undefined ? localLog(target) : cloudWatchLog(target)),
  who: () => process.env.GITHUB_ACTOR ?? userInfo().username,
};

/**
 * For each alert the queue moved itself (no failure of the relay's in the message), the last failed
 * send the ledger kept, asked of the status function (or the local relay's status). Best effort: a
 * status that cannot answer leaves the reason unknown, as it was.
 */
const lastFailuresOf = async (
  messages: readonly Message[],
  options: { readonly local?: boolean; readonly port?: string },
  target: QueueTarget,
  deps: DeadLettersDeps,
): Promise<Map<string, string>> => {
  const port = options.port ?? process.env.PORT ?? LOCAL_DEFAULTS.PORT;
  const ask = (alertId: string): Promise<RelayStatus> =>
    options.local
      ? readLocalStatus(port, deps.fetch, alertId)
      : invokeFunction(deps.lambda(target.region ?? ''), functionName(target.stage ?? '', 'status'), { alertId }, RelayStatusCodec);
  const found = new Map<string, string>();
  for (const message of messages) {
    const read = readQueuedMessage(message.Body ?? '');
    if (read.kind !== 'alert' || read.queued.failure !== undefined) continue;
    const alertId = queuedAlertId(message.Body ?? '');
    if (alertId === undefined) continue;
    const lastFailure = await ask(alertId).then(
      (status) => status.alert?.lastFailure,
      () => undefined,
    );
    if (lastFailure !== undefined) found.set(message.MessageId ?? '', lastFailure);
  }
  return found;
};

/** The lines a person reads about one dead letter. */
const details = (entry: DeadLetterEntry): string[] => [
  `${entry.messageId}  ${describeLine(entry)}`,
  ...(entry.firstAcceptedAt === undefined ? [] : [`    first accepted  ${entry.firstAcceptedAt}`]),
  ...(entry.deadLetteredAt === undefined ? [] : [`    dead-lettered   ${entry.deadLetteredAt}`]),
  ...(entry.attempts === undefined ? [] : [`    received        ${entry.attempts} time${entry.attempts === 1 ? '' : 's'} by deliver`]),
  ...entry.earlierFailures.map((failure) => `    before that     ${failure}`),
  // An alert is named above; what is not one is shown (--json and a discard's record keep up to 2000 characters).
  ...(entry.kind === 'alert' ? [] : [`    content         ${truncate(entry.content, 200)}`]),
];

/** `npm run dead-letters`: inspect the dead-letter queue, or settle one dead letter on purpose. */
export const run = async (argv: readonly string[], io: Io, deps: DeadLettersDeps = defaultDeps): Promise<number> => {
  const options = commandOptions(
    argv,
    {
      json: { type: 'boolean' },
      discard: { type: 'string' },
      reason: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
    },
    USAGE,
    io,
  );
  if (options === undefined) return 0;
  if (options.discard !== undefined && (options.reason ?? '').trim() === '')
    throw new CliError(`--discard needs --reason "<why>": it is recorded with what was discarded.\n${USAGE}`);
  if (options.discard !== undefined && options.json) throw new CliError(`--discard and --json cannot go together.\n${USAGE}`);
  const target = await openQueues(options, io, deps, USAGE);
  const messages = await readDeadLetters(target.sqs, target.deadLetterUrl);
  const maxReceiveCount = await maxReceiveCountOf(target.sqs, await target.alertsUrl());
  const lastFailures = await lastFailuresOf(messages, options, target, deps);
  const entries = messages.map((message) => describeDeadLetter(message, maxReceiveCount, lastFailures.get(message.MessageId ?? '')));

  if (options.discard === undefined) {
    if (options.json) {
      io.out(JSON.stringify(entries, null, 2));
      return 0;
    }
    io.out(
      `${target.deadLetterName}: ${entries.length === 0 ? 'empty' : `${entries.length} dead letter${entries.length === 1 ? '' : 's'}`}` +
        (entries.length >= DEAD_LETTERS_READ_LIMIT ? ` (the first ${DEAD_LETTERS_READ_LIMIT} read; there may be more).` : '.'),
    );
    for (const entry of entries) for (const line of details(entry)) io.out(line);
    const redeliverable = entries.filter((entry) => entry.redeliverable).length;
    if (redeliverable > 0)
      io.out(
        `Move back the ${redeliverable === entries.length ? '' : `${redeliverable} `}alerts with npm run redrive -- ${target.again} once the cause is fixed.`,
      );
    if (redeliverable < entries.length)
      io.out(
        `What a redrive brings straight back, settle with npm run dead-letters -- ${target.again} --discard <message id> --reason "<why>".`,
      );
    return 0;
  }

  const entry = entries.find((candidate) => candidate.messageId === options.discard);
  if (entry === undefined) throw new CliError(`no dead letter ${options.discard} in ${target.deadLetterName}`);
  for (const line of details(entry)) io.out(line);
  if (entry.redeliverable) io.out('  A redrive could still deliver this one (npm run redrive): discarding it means it never pages.');
  if (!options.yes) {
    if (io.ask === undefined) {
      io.err('Nothing discarded. Run again with --yes to discard it.');
      return 1;
    }
    const answer = (await io.ask(`Discard ${entry.messageId} for good? [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.out('Nothing discarded.');
      return 0;
    }
  }
  if (!(await deleteDeadLetter(target.sqs, target.deadLetterUrl, entry.messageId)))
    throw new CliError(`${entry.messageId} is no longer in ${target.deadLetterName} (moved or discarded meanwhile): nothing discarded`);
  const recorded = {
    action: 'dead letter discarded',
    at: new Date().toISOString(),
    by: deps.who(),
    reason: (options.reason ?? '').trim(),
    queue: target.deadLetterName,
    messageId: entry.messageId,
    kind: entry.kind,
    ...(entry.alertId === undefined ? {} : { alertId: entry.alertId }),
    deadLetterReason: entry.reason,
    problems: entry.problems,
    // What was discarded, so that it is not gone unread (cut to DEAD_LETTER_CONTENT_CHARS, control characters removed).
    content: entry.content,
  };
  try {
    const where = await deps.operationsLog(target).record(recorded);
    io.out(`Discarded ${entry.messageId}; recorded in ${where}.`);
    return 0;
  } catch (error) {
    // The message is gone: the record must not be. It is printed for the person to keep.
    io.err(`Discarded ${entry.messageId}, but the operations log could not record it (${(error as Error).message}). The record:`);
    io.out(JSON.stringify(recorded));
    return 1;
  }
};

if (require.main === module) runMain((argv, io) => run(argv, io));
