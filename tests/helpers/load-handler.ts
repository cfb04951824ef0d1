import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';

/**
 * Loads a Lambda entry (handlers/*.ts) the way Lambda does: environment first, then the module,
 * whose top level reads the configuration. Each load gets a fresh module registry, and the AWS SDK
 * clients of that registry have `send` replaced at the command level (nothing reaches the network).
 * Anything the process writes (logs, metrics) is captured.
 */
type Send = (command: unknown) => Promise<unknown>;
export type SendSpy = jest.SpyInstance<Promise<unknown>, [unknown]>;

export interface LoadedHandler<M> {
  readonly module: M;
  /** `SQSClient.prototype.send` of the handler's registry. */
  readonly sqsSend: SendSpy;
  /** `DynamoDBDocumentClient.prototype.send`: the ledger speaks DynamoDB through the DocumentClient (plain values). */
  readonly dynamodbSend: SendSpy;
  readonly ssmSend: SendSpy;
}

/** Dummy settings every handler test starts from: no real credentials, no real endpoint. */
export const BASE_LAMBDA_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIAUNITTESTDUMMY000',
  AWS_SECRET_ACCESS_KEY: 'unit-test-dummy-secret',
  AWS_EC2_METADATA_DISABLED: 'true',
  ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-test-alerts',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-test-dead-letter',
  LEDGER_TABLE_NAME: 'relay-test-ledger',
  RELAY_STAGE: 'unit',
} as const satisfies Readonly<Record<string, string>>;

const unexpected =
  (client: string) =>
  async (command: unknown): Promise<unknown> => {
    throw new Error(`unexpected ${client} command in a unit test: ${(command as { constructor: { name: string } }).constructor.name}`);
  };

const spySend = (prototype: object, client: string): SendSpy =>
  jest.spyOn(prototype as { send: Send }, 'send').mockImplementation(unexpected(client));

/**
 * Sets `env` (over a copy of the current environment), then runs `load` in an isolated registry.
 * `load` must `require` the handler itself, so that the path is resolved from the test file.
 * The environment is restored afterwards; a throw from the module's top level propagates.
 */
export const loadHandler = <M>(env: Readonly<Record<string, string | undefined>>, load: () => M): LoadedHandler<M> => {
  const saved = process.env;
  process.env = { ...saved, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete process.env[key];
  try {
    let loaded: LoadedHandler<M> | undefined;
    jest.isolateModules(() => {
      const { SQSClient } = require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');
      const { DynamoDBDocumentClient } = require('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb');
      const { SSMClient } = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
      const sqsSend = spySend(SQSClient.prototype, 'SQS');
      const dynamodbSend = spySend(DynamoDBDocumentClient.prototype, 'DynamoDB');
      const ssmSend = spySend(SSMClient.prototype, 'SSM');
      loaded = { module: load(), sqsSend, dynamodbSend, ssmSend };
    });
    if (loaded === undefined) throw new Error('the handler did not load');
    return loaded;
  } finally {
    process.env = saved;
  }
};

/** SQS answers every SendMessageBatch entry as sent, or refuses the entries `fails` picks as sender faults (not retried). */
export const answerSendMessageBatch = (spy: SendSpy, fails: (queueUrl: string) => boolean = () => false): void => {
  spy.mockImplementation(async (command) => {
    const input = (command as { input: SendMessageBatchCommandInput }).input;
    const entries = input.Entries ?? [];
    return fails(input.QueueUrl ?? '')
      ? { Successful: [], Failed: entries.map((e) => ({ Id: e.Id, SenderFault: true, Code: 'AccessDenied' })) }
      : { Successful: entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })), Failed: [] };
  });
};

/** The command name and input of every call a send spy saw. */
export const commandsOf = (spy: SendSpy): Array<{ name: string; input: Record<string, unknown> }> =>
  spy.mock.calls.map(([command]) => {
    const c = command as { constructor: { name: string }; input: Record<string, unknown> };
    return { name: c.constructor.name, input: c.input };
  });

/** Captures stdout and stderr (logs and metrics) until `restore()`. */
export const captureOutput = () => {
  const chunks: string[] = [];
  const record = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(record);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(record);
  return {
    text: (): string => chunks.join(''),
    /** Every JSON line written, parsed; other lines are skipped. */
    lines: (): Array<Record<string, unknown>> =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    clear: (): void => {
      chunks.length = 0;
    },
    restore: (): void => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
};

/**
 * Captures stdout and stderr around each test of the file (a handler logs; its lines stay off the test
 * output and the test can read them), and restores every mock once the file is done.
 */
export const capturedEachTest = (): Omit<ReturnType<typeof captureOutput>, 'restore'> => {
  let output: ReturnType<typeof captureOutput> | undefined;
  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(() => output?.restore());
  afterAll(() => jest.restoreAllMocks());
  return {
    text: () => output?.text() ?? '',
    lines: () => output?.lines() ?? [],
    clear: () => output?.clear(),
  };
};
