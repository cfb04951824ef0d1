import type { Message, SQSClientConfig } from '@aws-sdk/client-sqs';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { readAlert } from '../lib/alert/read-alert';
import { escapedId, plainText, truncate } from '../lib/common/text';
import type { Failure } from '../lib/queue/messages';
import { readQueuedMessage } from '../lib/queue/messages';
import { readCredentialsFile } from '../local/credentials-file';
import type { LocalQueues } from '../local/local-queues';
import { LocalQueuesCodec } from '../local/local-queues';
import { LOCAL_DEFAULTS } from '../local/stack';
import type { Io } from './cli';
import { CliError, checkStage, queueName, readLocalJson, refuseTogether } from './cli';
import type { ChosenRegion } from './stage-settings';

/**
 * What `npm run redrive` and `npm run dead-letters` share: finding a stage's (or the local stack's)
 * queues, reading every dead letter without hiding any, and describing one for a person.
 */

export interface QueueDeps {
  /** An SQS client for the chosen region, or with the given settings (--local). */
  readonly sqs: (config: SQSClientConfig) => SQSClient;
  readonly fetch: typeof fetch;
  readonly region: (flag: string | undefined, stage: string) => Promise<ChosenRegion>;
}

export interface QueueTarget {
  readonly sqs: SQSClient;
  readonly deadLetterName: string;
  readonly alertsName: string;
  readonly deadLetterUrl: string;
  alertsUrl(): Promise<string>;
  /** How to name this target again on the command line: `--stage prod`, `--local --port 3001`. */
  readonly again: string;
  /** The deployed stage, when it is one. */
  readonly stage?: string;
  readonly region?: string;
  /** The local stack's operations log (a file), when the target is the local stack and keeps one. */
  readonly localOperationsLog?: string;
}

/** The local stack's queues, as its `GET /local/queues` tells them. */
const readLocalQueues = (port: string, doFetch: typeof fetch): Promise<LocalQueues> =>
  readLocalJson(port, '/local/queues', LocalQueuesCodec, doFetch);

const queueUrlOf = async (sqs: SQSClient, name: string): Promise<string> => {
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (QueueUrl === undefined) throw new Error('no QueueUrl');
    return QueueUrl;
  } catch (error) {
    if (error instanceof QueueDoesNotExist)
      throw new CliError(`queue ${name} not found: is the stage deployed in this account and region?`);
    throw error;
  }
};

const lastSegment = (url: string): string => new URL(url).pathname.split('/').pop() ?? '';

/** The local relay's per-start credentials, from the file it names (0600: readable by the user who runs it). */
const readLocalCredentials = (path: string) => {
  try {
    return readCredentialsFile(path);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
};

/** The queues of `--stage` (in the region it chooses, said on stderr) or of `--local` (the npm start stack). */
export const openQueues = async (
  options: { readonly stage?: string; readonly region?: string; readonly local?: boolean; readonly port?: string },
  io: Io,
  deps: QueueDeps,
  usage: string,
): Promise<QueueTarget> => {
  refuseTogether(options, 'stage', 'local', usage);
  refuseTogether(options, 'region', 'local', usage);
  if (options.local) {
    const port = options.port ?? process.env.PORT ?? LOCAL_DEFAULTS.PORT;
    const local = await readLocalQueues(port, deps.fetch);
    return {
      sqs: deps.sqs({
        endpoint: local.sqsEndpoint,
        region: local.region,
        // The embedded emulators take the relay's per-start credentials; another endpoint the usual ones.
        ...(local.credentialsFile === undefined ? {} : { credentials: readLocalCredentials(local.credentialsFile) }),
      }),
      deadLetterName: lastSegment(local.deadLetterQueueUrl),
      alertsName: lastSegment(local.alertsQueueUrl),
      deadLetterUrl: local.deadLetterQueueUrl,
      alertsUrl: async () => local.alertsQueueUrl,
      again: `--local${options.port === undefined ? '' : ` --port ${options.port}`}`,
      ...(local.operationsLog === undefined ? {} : { localOperationsLog: local.operationsLog }),
    };
  }
  const stage = checkStage(options.stage, usage);
  const { region, from } = await deps.region(options.region, stage);
  io.err(`region ${region} (${from})`);
  const sqs = deps.sqs({ region });
  const deadLetterName = queueName(stage, 'dead-letter');
  const alertsName = queueName(stage, 'alerts');
  return {
    sqs,
    deadLetterName,
    alertsName,
    deadLetterUrl: await queueUrlOf(sqs, deadLetterName),
    alertsUrl: () => queueUrlOf(sqs, alertsName),
    again: `--stage ${stage}`,
    stage,
    region,
  };
};

export type Attribute = 'QueueArn' | 'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible' | 'RedrivePolicy';

export const attributes = async (sqs: SQSClient, url: string, names: Attribute[]): Promise<Partial<Record<Attribute, string>>> =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }))).Attributes ?? {};

/** The alerts queue's maxReceiveCount (its redrive policy): after that many receives SQS moves a message itself. */
export const maxReceiveCountOf = async (sqs: SQSClient, alertsUrl: string): Promise<number | undefined> => {
  const { RedrivePolicy } = await attributes(sqs, alertsUrl, ['RedrivePolicy']);
  try {
    const count = Number((JSON.parse(RedrivePolicy ?? '{}') as { maxReceiveCount?: unknown }).maxReceiveCount);
    return Number.isSafeInteger(count) && count > 0 ? count : undefined;
  } catch {
    return undefined;
  }
};

/** While the dead letters are read, they are hidden this long; every one is made visible again right after. */
const READ_VISIBILITY_SECONDS = 30;

/**
 * Every dead letter (up to `limit`), read without moving or hiding anything: each batch is received
 * (hidden for READ_VISIBILITY_SECONDS, so that the next receive returns others), and once all are
 * read, every one is made visible again at once. SQS counts each read as a receive.
 */
export const DEAD_LETTERS_READ_LIMIT = 1_000;

export const readDeadLetters = async (sqs: SQSClient, url: string, limit = DEAD_LETTERS_READ_LIMIT): Promise<Message[]> => {
  const held = await holdDeadLetters(sqs, url, limit);
  await held.release();
  return held.messages;
};

/**
 * Deletes one dead letter by its message id. It is received again first, for a receipt handle
 * that is surely current (a handle from an earlier read may no longer delete it once the message
 * was made visible again); every other message read on the way is made visible again at once.
 * False when no visible dead letter has that id (moved or deleted meanwhile).
 */
export const deleteDeadLetter = async (sqs: SQSClient, url: string, messageId: string): Promise<boolean> => {
  const held = await holdDeadLetters(sqs, url, DEAD_LETTERS_READ_LIMIT, messageId);
  const target = held.messages.find((message) => message.MessageId === messageId);
  try {
    if (target === undefined) return false;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: target.ReceiptHandle }));
    return true;
  } finally {
    await held.release(target);
  }
};

/** Reads dead letters and keeps them hidden until `release` (up to `limit`, or until `until` is among them). */
const holdDeadLetters = async (
  sqs: SQSClient,
  url: string,
  limit: number,
  until?: string,
): Promise<{ readonly messages: Message[]; release(except?: Message): Promise<void> }> => {
  const seen = new Map<string, Message>();
  const release = (except?: Message) =>
    releaseMessages(
      sqs,
      url,
      [...seen.values()].filter((message) => message !== except),
    );
  try {
    while (seen.size < limit) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: READ_VISIBILITY_SECONDS,
          // Long polling asks every SQS server: an empty answer means nothing visible is left
          // (a short poll samples some servers, and may come back empty while messages remain).
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const fresh = Messages.filter((message) => !seen.has(message.MessageId ?? ''));
      if (fresh.length === 0) break;
      for (const message of fresh) seen.set(message.MessageId ?? '', message);
      if (until !== undefined && seen.has(until)) break;
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { messages: [...seen.values()], release };
};

/** Makes messages visible again (after a preview or a read): nothing shown stays hidden. */
export const releaseMessages = async (sqs: SQSClient, url: string, messages: readonly Message[]): Promise<void> => {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: batch.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
      }),
    );
  }
};

/** One dead letter, for a person: which alert, why, with the field path, and its history. Never the raw payload. */
export interface DeadLetterEntry {
  readonly messageId: string;
  readonly kind: 'alert' | 'not an alert' | 'unreadable';
  readonly alertId?: string;
  readonly title?: string;
  readonly severity?: number | 'unknown';
  /** Where it failed and why: `deliver: Squadcast answered 401`, `ingest: invalid alert`. */
  readonly reason: string;
  /** Field paths and expectations, never values: `alerts[1]: expected object`. */
  readonly problems: readonly string[];
  /** When the relay first accepted it (ingest's time). */
  readonly firstAcceptedAt?: string;
  readonly deadLetteredAt?: string;
  /** How many times deliver had received it when it gave up. */
  readonly attempts?: number;
  /** Failures of earlier trips through the dead-letter queue, and redrives that came straight back. */
  readonly earlierFailures: readonly string[];
  /** False when a redrive cannot deliver it as it is (it would come straight back). */
  readonly redeliverable: boolean;
  /**
   * What the dead letter holds (the alert, the element that was not one, the text that was not JSON),
   * as JSON, control characters removed, cut to DEAD_LETTER_CONTENT_CHARS: shown, and kept in a
   * discard's record, so that nothing is gone unread.
   */
  readonly content: string;
}

/** How much of a dead letter's content a listing (`--json`) and a discard's record keep. */
export const DEAD_LETTER_CONTENT_CHARS = 2_000;

const contentOf = (value: unknown, asText = false): string =>
  truncate(plainText(asText && typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))), DEAD_LETTER_CONTENT_CHARS);

const failureText = (failure: Failure): string => `${failure.stage}: ${failure.reason}`;

/** Why the queue itself moved an alert (after maxReceiveCount receives): the last failure the ledger kept, if any. */
const movedByTheQueue = (maxReceiveCount: number | undefined, lastFailure: string | undefined): string => {
  const moved = `moved here by the queue after ${maxReceiveCount ?? 'maxReceiveCount'} receives`;
  return lastFailure === undefined
    ? `no failure recorded: ${moved} (deliver failed on it before it could send: a crash, a timeout, or a dependency failing every time)`
    : `${moved}; its last failed send: ${lastFailure}`;
};

/**
 * One dead letter, read. `lastFailure` is what the ledger kept of the alert's last failed send: it
 * names the reason when the queue moved the alert itself, with no failure of its own in the message.
 */
export const describeDeadLetter = (message: Message, maxReceiveCount?: number, lastFailure?: string): DeadLetterEntry => {
  const messageId = message.MessageId ?? '';
  const read = readQueuedMessage(message.Body ?? '');
  if (read.kind === 'alert') {
    const { failure, earlierFailures = [] } = read.queued;
    const alert = readAlert(read.queued.alert, { id: read.queued.alertId, receivedAt: new Date() });
    return {
      messageId,
      kind: 'alert',
      alertId: alert.id,
      ...(alert.title === undefined ? {} : { title: alert.title }),
      severity: alert.severity ?? 'unknown',
      reason: failure === undefined ? movedByTheQueue(maxReceiveCount, lastFailure) : failureText(failure),
      problems: failure?.problems ?? [],
      ...(read.queued.receivedAt === undefined ? {} : { firstAcceptedAt: read.queued.receivedAt }),
      ...(failure === undefined ? {} : { deadLetteredAt: failure.at }),
      ...(failure?.attempts === undefined ? {} : { attempts: failure.attempts }),
      earlierFailures: earlierFailures.map((f) => `${failureText(f)} at ${f.at}`),
      redeliverable: true,
      content: contentOf(read.queued.alert),
    };
  }
  if (read.kind === 'not an alert') {
    const { failure, redrives } = read.letter;
    return {
      messageId,
      kind: 'not an alert',
      reason: failureText(failure),
      problems: failure.problems ?? [],
      firstAcceptedAt: failure.at,
      deadLetteredAt: failure.at,
      earlierFailures: redrives === undefined ? [] : [`redriven ${redrives} time${redrives === 1 ? '' : 's'}, back each time`],
      redeliverable: false,
      content: contentOf(read.letter.raw),
    };
  }
  const notJson = read.problems.includes('(root): expected JSON');
  return {
    messageId,
    kind: 'unreadable',
    reason: notJson ? 'not JSON' : 'unknown message shape',
    problems: [],
    earlierFailures: [],
    redeliverable: false,
    content: contentOf(message.Body ?? '', true),
  };
};

/** One line for a person: `alert abc (severity 1, "Host: …"): deliver: Squadcast answered 401 …`. */
export const describeLine = (entry: DeadLetterEntry): string => {
  // Alert text goes to a terminal: control characters (colours, cursor moves, a title change) are removed.
  const what =
    entry.kind === 'alert'
      ? `alert ${escapedId(entry.alertId ?? '')} (severity ${entry.severity}${entry.title === undefined ? '' : `, "${truncate(plainText(entry.title), 60)}"`})`
      : entry.kind === 'not an alert'
        ? 'not an alert'
        : 'unreadable';
  const problems = entry.problems.length === 0 ? '' : ` [${entry.problems.slice(0, 3).join('; ')}]`;
  const back = entry.redeliverable ? '' : ': a redrive brings it straight back';
  const at = entry.deadLetteredAt === undefined ? '' : ` at ${entry.deadLetteredAt}`;
  return `${what}: ${entry.reason}${at}${problems}${back}`;
};
