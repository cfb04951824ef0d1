import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { decodeWith } from '../lib/common/checked';
import { QueuedAlertCodec, RawDeadLetterCodec } from '../lib/queue/messages';
import { intOption, parseOptions } from './args';
import type { Io } from './cli';
import { CliError, checkStage, queueName, runMain } from './cli';

const USAGE = [
  'usage: npm run redrive -- --stage <stage> [--region <region>] [--yes] [--rate <messages per second>]',
  '       npm run redrive -- --stage <stage> --status',
  '  Shows what is in the dead-letter queue, then moves it back to the alerts queue',
  '  (SQS StartMessageMoveTask) once you confirm, or at once with --yes.',
].join('\n');

/** How many dead letters are shown before the move. */
const PREVIEW = 10;

export interface DeadLetterLine {
  readonly text: string;
  /** False for messages that will come straight back: invalid alerts, undecodable bodies. */
  readonly redeliverable: boolean;
}

/** One line per dead letter: which alert, where it failed and why. Never the raw payload. */
export const describeDeadLetter = (body: string): DeadLetterLine => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { text: 'not JSON (it will come back to the dead-letter queue)', redeliverable: false };
  }
  const queued = decodeWith(QueuedAlertCodec, json);
  if (queued.kind === 'valid') {
    const { alert, failure } = queued.value;
    const why =
      failure === undefined
        ? 'no failure recorded (moved here by SQS after 15 receives: deliver kept failing)'
        : `${failure.stage}: ${failure.reason} at ${failure.at}`;
    return { text: `alert ${alert.id} (severity ${alert.severity}): ${why}`, redeliverable: true };
  }
  const raw = decodeWith(RawDeadLetterCodec, json);
  if (raw.kind === 'valid') {
    const { failure } = raw.value;
    const detail = failure.problems === undefined ? '' : `: ${failure.problems.slice(0, 3).join('; ')}`;
    return {
      text: `${failure.reason} (${failure.stage}${detail}): it will come back to the dead-letter queue`,
      redeliverable: false,
    };
  }
  return { text: 'unknown message shape (it will come back to the dead-letter queue)', redeliverable: false };
};

export interface RedriveDeps {
  readonly sqs: (region: string | undefined) => SQSClient;
}

const defaultDeps: RedriveDeps = { sqs: (region) => new SQSClient(region === undefined ? {} : { region }) };

const queueUrlOf = async (sqs: SQSClient, name: string): Promise<string> => {
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (QueueUrl === undefined) throw new Error('no QueueUrl');
    return QueueUrl;
  } catch (error) {
    if (error instanceof QueueDoesNotExist) {
      throw new CliError(`queue ${name} not found: is the stage deployed in this account and region?`);
    }
    throw error;
  }
};

const attributes = async (
  sqs: SQSClient,
  url: string,
  names: Array<'QueueArn' | 'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible'>,
) => (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }))).Attributes ?? {};

const printTasks = async (sqs: SQSClient, sourceArn: string, io: Io): Promise<number> => {
  const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 5 }));
  if (Results.length === 0) {
    io.out('No message move task has run from this dead-letter queue (in the last 14 days).');
    return 0;
  }
  for (const task of Results) {
    const started = task.StartedTimestamp === undefined ? '' : ` started ${new Date(task.StartedTimestamp).toISOString()}`;
    const moved = `${task.ApproximateNumberOfMessagesMoved ?? 0} of ${task.ApproximateNumberOfMessagesToMove ?? '?'} moved`;
    io.out(`${task.Status ?? 'UNKNOWN'}${started}: ${moved}${task.FailureReason ? ` (failure: ${task.FailureReason})` : ''}`);
  }
  return 0;
};

/**
 * `npm run redrive`: moves dead-lettered alerts back to the alerts queue with SQS's own
 * message move task (the console's "Start DLQ redrive"). Delivery is idempotent on the alert
 * id, so an alert that did reach Squadcast is not sent twice.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html
 */
export const run = async (argv: readonly string[], io: Io, deps: RedriveDeps = defaultDeps): Promise<number> => {
  const options = parseOptions(
    argv,
    {
      stage: { type: 'string' },
      region: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      rate: { type: 'string' },
      status: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  const stage = checkStage(options.stage, USAGE);
  const rate = options.rate === undefined ? undefined : intOption(options.rate, 'rate', 1, 500, 1);
  const sqs = deps.sqs(options.region);
  const deadLetterName = queueName(stage, 'dead-letter');
  const alertsName = queueName(stage, 'alerts');
  const deadLetterUrl = await queueUrlOf(sqs, deadLetterName);
  const deadLetter = await attributes(sqs, deadLetterUrl, [
    'QueueArn',
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ]);
  const sourceArn = deadLetter.QueueArn ?? '';
  if (options.status) return printTasks(sqs, sourceArn, io);

  const waiting = Number(deadLetter.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(deadLetter.ApproximateNumberOfMessagesNotVisible ?? 0);
  if (waiting === 0) {
    io.out(
      `${deadLetterName} is empty${inFlight > 0 ? ` (${inFlight} messages are being read or moved right now)` : ''}: nothing to move.`,
    );
    return 0;
  }
  const alertsUrl = await queueUrlOf(sqs, alertsName);
  const destinationArn = (await attributes(sqs, alertsUrl, ['QueueArn'])).QueueArn ?? '';

  // A peek with VisibilityTimeout 0: the messages stay visible, for the move task to take.
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: PREVIEW, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
  );
  const lines = Messages.map((message) => describeDeadLetter(message.Body ?? ''));
  io.out(
    `${deadLetterName} holds about ${waiting} message${waiting === 1 ? '' : 's'}. ` +
      (Messages.length < waiting ? `A sample of ${Messages.length}:` : 'They are:'),
  );
  for (const line of lines) io.out(`  - ${line.text}`);
  if (lines.some((line) => !line.redeliverable)) {
    io.out(
      '  Messages marked "will come back" cannot be delivered as they are; ' +
        'moving them is harmless but they return to the dead-letter queue.',
    );
  }
  io.out(
    `The move sends all of them to ${alertsName}${rate === undefined ? '' : ` at ${rate} a second`}; ` +
      'deliver then tries each again (an alert already in Squadcast is not sent twice).',
  );

  if (!options.yes) {
    if (io.ask === undefined) {
      io.err('Nothing moved. Run again with --yes to start the move.');
      return 1;
    }
    const answer = (
      await io.ask(`Move about ${waiting} message${waiting === 1 ? '' : 's'} from ${deadLetterName} to ${alertsName}? [y/N] `)
    )
      .trim()
      .toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.out('Nothing moved.');
      return 0;
    }
  }
  const { TaskHandle } = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      DestinationArn: destinationArn,
      ...(rate === undefined ? {} : { MaxNumberOfMessagesPerSecond: rate }),
    }),
  );
  io.out(`Move started (task ${TaskHandle ?? 'unknown'}). Follow it with: npm run redrive -- --stage ${stage} --status`);
  return 0;
};

if (require.main === module) runMain((argv, io) => run(argv, io));
