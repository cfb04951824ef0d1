import type { Message, SQSClientConfig } from '@aws-sdk/client-sqs';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  SQSServiceException,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { readAlert } from '../lib/alert/read-alert';
import { sleep as realSleep } from '../lib/common/backoff';
import { decodeWith, valueOrThrow } from '../lib/common/checked';
import { QueuedAlertCodec, RawDeadLetterCodec } from '../lib/queue/messages';
import type { LocalQueues } from '../local/local-queues';
import { LocalQueuesCodec } from '../local/local-queues';
import { LOCAL_DEFAULTS } from '../local/stack';
import { intOption, parseOptions } from './args';
import type { Io } from './cli';
import { CliError, checkStage, queueName, runMain } from './cli';

const USAGE = [
  'usage: npm run redrive -- --stage <stage> [--region <region>] [--yes] [--rate <messages per second>]',
  '       npm run redrive -- --stage <stage> --status',
  '       npm run redrive -- --local [--port <port>] [--yes] [--rate <messages per second>]   (the `npm start` stack)',
  '  Shows what is in the dead-letter queue, then moves it back to the alerts queue',
  '  (SQS StartMessageMoveTask, or receive/send/delete where the endpoint has no move task)',
  '  once you confirm, or at once with --yes.',
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
    const { failure } = queued.value;
    const alert = readAlert(queued.value.alert, { id: queued.value.alertId, receivedAt: new Date() });
    const why =
      failure === undefined
        ? 'no failure recorded (moved here by SQS after 1000 receives: deliver could not handle it, e.g. it crashed on it)'
        : `${failure.stage}: ${failure.reason} at ${failure.at}`;
    return { text: `alert ${alert.id} (severity ${alert.severity ?? 'unknown'}): ${why}`, redeliverable: true };
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
  /** An SQS client for `--region` (else the SDK's usual settings), or with the given settings (--local). */
  readonly sqs: (config: string | undefined | SQSClientConfig) => SQSClient;
  readonly fetch?: typeof fetch;
}

const defaultDeps: RedriveDeps = {
  sqs: (config) => new SQSClient(typeof config === 'object' ? config : config === undefined ? {} : { region: config }),
  fetch,
};

/** The local stack's queues, as its `GET /local/queues` tells them. */
const readLocalQueues = async (port: string, doFetch: typeof fetch): Promise<LocalQueues> => {
  let response: Response;
  try {
    response = await doFetch(`http://127.0.0.1:${port}/local/queues`, { headers: { accept: 'application/json' } });
  } catch {
    throw new CliError(`could not reach the local relay on 127.0.0.1:${port}: is npm start running?`);
  }
  if (!response.ok) throw new CliError(`the local relay answered ${response.status}`);
  return valueOrThrow(
    decodeWith(LocalQueuesCodec, await response.json()),
    () => new CliError('the local relay answered an unexpected shape: is it an older version of this checkout?'),
  );
};

/** Error names of an endpoint without message move tasks: fauxqs answers InvalidAction ("Unknown action"). */
const UNSUPPORTED = new Set(['InvalidAction', 'UnsupportedOperation', 'NotImplemented']);
const isUnsupported = (error: unknown): boolean => error instanceof SQSServiceException && UNSUPPORTED.has(error.name);

/** While a batch is being moved by hand its messages stay hidden in the dead-letter queue this long. */
const MOVE_VISIBILITY_SECONDS = 60;

export interface MoveReport {
  readonly moved: number;
  /** Messages the alerts queue refused: they stay in the dead-letter queue. */
  readonly failed: number;
}

/**
 * Moves up to `limit` messages from one queue to another by hand, a batch at a time: receive,
 * send, then delete only what was sent. At least once: a crash between the send and the delete
 * leaves the message in both queues; the dead-letter copy comes back after
 * MOVE_VISIBILITY_SECONDS and a second run moves it again. Both copies are the same alert, and
 * deliver claims the alert id in the ledger, so Squadcast still gets one incident. `limit` (the
 * depth counted before the move) stops a message that deliver puts straight back (an invalid
 * alert) from being moved forever.
 */
export const moveByHand = async (
  sqs: SQSClient,
  from: string,
  to: string,
  options: { readonly limit: number; readonly rate?: number; readonly sleep?: (ms: number) => Promise<void> },
): Promise<MoveReport> => {
  const wait = options.sleep ?? realSleep;
  let moved = 0;
  let failed = 0;
  while (moved + failed < options.limit) {
    const wanted = Math.min(10, options.rate ?? 10, options.limit - moved - failed);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: from,
        MaxNumberOfMessages: wanted,
        VisibilityTimeout: MOVE_VISIBILITY_SECONDS,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    const { Successful = [], Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: to,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body ?? '',
          ...(message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0
            ? { MessageAttributes: message.MessageAttributes }
            : {}),
        })),
      }),
    );
    const sent: Message[] = Successful.flatMap((entry) => Messages[Number(entry.Id)] ?? []);
    if (sent.length > 0)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: from,
          Entries: sent.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
        }),
      );
    moved += sent.length;
    failed += Failed.length;
    if (options.rate !== undefined) await wait((1000 * Messages.length) / options.rate);
  }
  return { moved, failed };
};

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
 * message move task (the console's "Start DLQ redrive"), or by hand (moveByHand) where the
 * endpoint has none (the local emulator). Delivery is idempotent on the alert id, so an alert
 * that did reach Squadcast is not sent twice. `--local` finds the queues of the `npm start`
 * stack through its `GET /local/queues`.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html
 */
export const run = async (argv: readonly string[], io: Io, deps: RedriveDeps = defaultDeps): Promise<number> => {
  const options = parseOptions(
    argv,
    {
      stage: { type: 'string' },
      region: { type: 'string' },
      local: { type: 'boolean' },
      port: { type: 'string' },
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
  const rate = options.rate === undefined ? undefined : intOption(options.rate, 'rate', 1, 500, 1);
  let sqs: SQSClient;
  let deadLetterName: string;
  let alertsName: string;
  let deadLetterUrl: string;
  let alertsUrl: () => Promise<string>;
  let again: string;
  if (options.local) {
    const port = options.port ?? process.env.PORT ?? LOCAL_DEFAULTS.PORT;
    const local = await readLocalQueues(port, deps.fetch ?? fetch);
    sqs = deps.sqs({
      endpoint: local.sqsEndpoint,
      region: local.region,
      // The embedded emulator takes any credentials; another endpoint gets the usual ones.
      ...(local.embedded ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
    deadLetterName = new URL(local.deadLetterQueueUrl).pathname.split('/').pop() ?? '';
    alertsName = new URL(local.alertsQueueUrl).pathname.split('/').pop() ?? '';
    deadLetterUrl = local.deadLetterQueueUrl;
    alertsUrl = async () => local.alertsQueueUrl;
    again = `--local${options.port === undefined ? '' : ` --port ${options.port}`}`;
  } else {
    const stage = checkStage(options.stage, USAGE);
    sqs = deps.sqs(options.region);
    deadLetterName = queueName(stage, 'dead-letter');
    alertsName = queueName(stage, 'alerts');
    deadLetterUrl = await queueUrlOf(sqs, deadLetterName);
    alertsUrl = () => queueUrlOf(sqs, alertsName);
    again = `--stage ${stage}`;
  }
  const deadLetter = await attributes(sqs, deadLetterUrl, [
    'QueueArn',
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ]);
  const sourceArn = deadLetter.QueueArn ?? '';
  if (options.status) {
    try {
      return await printTasks(sqs, sourceArn, io);
    } catch (error) {
      if (!isUnsupported(error)) throw error;
      io.out('This SQS endpoint has no message move tasks: npm run redrive moves the messages itself there, and is done when it returns.');
      return 0;
    }
  }

  const waiting = Number(deadLetter.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(deadLetter.ApproximateNumberOfMessagesNotVisible ?? 0);
  if (waiting === 0) {
    io.out(
      `${deadLetterName} is empty${inFlight > 0 ? ` (${inFlight} messages are being read or moved right now)` : ''}: nothing to move.`,
    );
    return 0;
  }
  const destinationUrl = await alertsUrl();
  const destinationArn = (await attributes(sqs, destinationUrl, ['QueueArn'])).QueueArn ?? '';

  // A peek with VisibilityTimeout 0: the messages stay visible, for the move to take.
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
  try {
    const { TaskHandle } = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: sourceArn,
        DestinationArn: destinationArn,
        ...(rate === undefined ? {} : { MaxNumberOfMessagesPerSecond: rate }),
      }),
    );
    io.out(`Move started (task ${TaskHandle ?? 'unknown'}). Follow it with: npm run redrive -- ${again} --status`);
    return 0;
  } catch (error) {
    if (!isUnsupported(error)) throw error;
  }
  io.out('This SQS endpoint has no message move task (StartMessageMoveTask): moving them here, a batch at a time.');
  const report = await moveByHand(sqs, deadLetterUrl, destinationUrl, {
    limit: waiting,
    ...(rate === undefined ? {} : { rate }),
    ...(io.sleep === undefined ? {} : { sleep: io.sleep }),
  });
  io.out(
    `Moved ${report.moved} message${report.moved === 1 ? '' : 's'} from ${deadLetterName} to ${alertsName}.` +
      (report.failed > 0 ? ` ${report.failed} could not be sent and stay in ${deadLetterName}.` : ''),
  );
  return report.failed > 0 ? 1 : 0;
};

if (require.main === module) runMain((argv, io) => run(argv, io));
