import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { GetQueueAttributesCommand, GetQueueUrlCommand, QueueDoesNotExist, type SQSClient } from '@aws-sdk/client-sqs';
import { readCredentialsFile } from '../local/credentials-file';
import type { LocalQueues } from '../local/local-queues';
import { LocalQueuesCodec } from '../local/local-queues';
import type { Io } from './cli';
import { CliError, chooseTarget, queueName, readLocalJson } from './cli';
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
  const target = await chooseTarget(options, io, usage, deps.region);
  if (target.kind === 'local') {
    const local = await readLocalQueues(target.port, deps.fetch);
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
  const { stage, region } = target;
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
