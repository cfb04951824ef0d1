import type { Message } from '@aws-sdk/client-sqs';
import {
  DeleteMessageBatchCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  SQSServiceException,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { sleep as realSleep } from '../lib/common/backoff';
import { commandOptions, intOption } from './args';
import type { Io } from './cli';
import { runMain } from './cli';
import { describeDeadLetter, describeLine } from './dead-letter-describe';
import { releaseMessages } from './dead-letter-reads';
import type { QueueDeps } from './queue-target';
import { attributes, maxReceiveCountOf, openQueues } from './queue-target';
import { regionFor } from './stage-settings';

const USAGE = [
  'usage: npm run redrive -- --stage <stage> [--region <region>] [--yes] [--rate <messages per second>]',
  '       npm run redrive -- --stage <stage> --status',
  '       npm run redrive -- --local [--port <port>] [--yes] [--rate <messages per second>]   (the `npm start` stack)',
  '  Shows what is in the dead-letter queue, then moves it back to the alerts queue',
  '  (SQS StartMessageMoveTask, or receive/send/delete where the endpoint has no move task)',
  '  once you confirm, or at once with --yes. To look without moving, or to settle one for good:',
  '  npm run dead-letters.',
].join('\n');

/** How many dead letters are shown before the move. */
const PREVIEW = 10;

export type RedriveDeps = QueueDeps;

const defaultDeps: RedriveDeps = { sqs: (config) => new SQSClient(config), fetch, region: regionFor };

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
  const options = commandOptions(
    argv,
    {
      yes: { type: 'boolean', short: 'y' },
      rate: { type: 'string' },
      status: { type: 'boolean' },
    },
    USAGE,
    io,
  );
  if (options === undefined) return 0;
  const rate = options.rate === undefined ? undefined : intOption(options.rate, 'rate', 1, 500, 1);
  const { sqs, deadLetterName, alertsName, deadLetterUrl, alertsUrl, again } = await openQueues(options, io, deps, USAGE);
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

  // A peek, asking for VisibilityTimeout 0; the messages are released again right after anyway
  // (an endpoint may keep them hidden for its default, as the local emulator does): the preview
  // never hides what it showed from the move.
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: PREVIEW, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
  );
  await releaseMessages(sqs, deadLetterUrl, Messages);
  const maxReceiveCount = await maxReceiveCountOf(sqs, destinationUrl);
  const lines = Messages.map((message) => describeDeadLetter(message, maxReceiveCount));
  io.out(
    `${deadLetterName} holds about ${waiting} message${waiting === 1 ? '' : 's'}. ` +
      (Messages.length < waiting ? `A sample of ${Messages.length}:` : 'They are:'),
  );
  for (const line of lines) io.out(`  - ${line.messageId}  ${describeLine(line)}`);
  if (lines.some((line) => !line.redeliverable)) {
    io.out(
      '  Messages a redrive brings straight back cannot be delivered as they are: moving them is harmless, ' +
        `they return with their reason. Settle them with npm run dead-letters -- ${again} --discard <message id> --reason "<why>".`,
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
