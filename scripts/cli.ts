import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import type * as t from 'io-ts';
import { decodeWith, valueOrThrow } from '../lib/common/checked';
import { LOCAL_SETTING_DEFAULTS } from '../local/settings';

/** serverless.yml's `service`; osls names each function `<service>-<stage>-<function>`. */
export const SERVICE = 'threatstack-squadcast-relay';

export const functionName = (stage: string, fn: 'status' | 'testAlert'): string => `${SERVICE}-${stage}-${fn}`;
export const queueName = (stage: string, queue: 'alerts' | 'dead-letter'): string => `${SERVICE}-${stage}-${queue}`;

/** What a command prints and reads; tests pass their own. */
export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Answers a yes/no question; undefined when no one can answer (no terminal). */
  readonly ask?: (question: string) => Promise<string>;
  readonly color?: boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}

/** Where to look after sending something to the local stack (npm start). */
export const localLinks = (port: string): string[] => [
  `  status page   http://127.0.0.1:${port}/status`,
  `  incidents     http://127.0.0.1:${port}/local/incidents  (the built-in inbox, when no SQUADCAST_WEBHOOK_URL is set)`,
  `  dead letters  npm run dead-letters -- --local${port === '3000' ? '' : ` --port ${port}`}`,
];

/** What every command says when the SDK finds no credentials (the region, it always finds: stage-settings.ts). */
const NO_CREDENTIALS = 'no AWS credentials: log in (aws sso login, a profile, or AWS_ACCESS_KEY_ID) and run it again';

/** An error whose message is meant for the operator as is: printed without a stack, exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** Two options that cannot go together, refused with a message that names both. */
export const refuseTogether = (options: Readonly<Record<string, unknown>>, first: string, second: string, usage: string): void => {
  if (options[first] !== undefined && options[second] !== undefined)
    throw new CliError(
      `--${first} and --${second} cannot go together: ${first === 'local' || second === 'local' ? '--local is the npm start stack, --stage a deployed one' : 'choose one'}.\n${usage}`,
    );
};

/** What an operator command acts on: the local stack on a port, or a stage in a region. */
export type Target =
  | { readonly kind: 'local'; readonly port: string }
  | { readonly kind: 'stage'; readonly stage: string; readonly region: string };

/**
 * The preamble every operator command shares once its options are parsed: --stage and --local
 * (and --region and --local) refused together, then the target: the local stack's port (--port,
 * else PORT, else 3000), or the stage and the region it runs in, said on stderr.
 */
export const chooseTarget = async (
  options: { readonly stage?: string; readonly region?: string; readonly local?: boolean; readonly port?: string },
  io: Io,
  usage: string,
  chooseRegion: (flag: string | undefined, stage: string) => Promise<{ readonly region: string; readonly from: string }>,
): Promise<Target> => {
  refuseTogether(options, 'stage', 'local', usage);
  refuseTogether(options, 'region', 'local', usage);
  if (options.local) return { kind: 'local', port: options.port ?? process.env.PORT ?? LOCAL_SETTING_DEFAULTS.PORT };
  const stage = checkStage(options.stage, usage);
  const { region, from } = await chooseRegion(options.region, stage);
  io.err(`region ${region} (${from})`);
  return { kind: 'stage', stage, region };
};

/** Stages are part of AWS resource names: letters, digits and hyphens. */
export const checkStage = (stage: string | undefined, usage: string): string => {
  if (stage === undefined || stage.trim() === '') throw new CliError(`--stage is required.\n${usage}`);
  if (!/^[A-Za-z0-9-]{1,32}$/.test(stage))
    throw new CliError('--stage must be letters, digits or hyphens, as in `serverless deploy --stage`');
  return stage;
};

const decodeJson = <C extends t.Mixed>(codec: C, text: string, what: string): t.TypeOf<C> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${what} did not answer JSON`);
  }
  return valueOrThrow(
    decodeWith(codec, json),
    (problems) =>
      new CliError(
        `${what} answered an unexpected shape (${problems.join('; ')}); is the deployed version older than this checkout? Deploy it again.`,
      ),
  );
};

/** GETs a JSON route of the local relay (`npm start`) and decodes it, with messages that say what to do. */
export const readLocalJson = async <C extends t.Mixed>(
  port: string,
  path: string,
  codec: C,
  doFetch: typeof fetch,
): Promise<t.TypeOf<C>> => {
  let response: Response;
  try {
    response = await doFetch(`http://127.0.0.1:${port}${path}`, { headers: { accept: 'application/json' } });
  } catch {
    throw new CliError(`could not reach the local relay on 127.0.0.1:${port}: is npm start running?`);
  }
  if (!response.ok) throw new CliError(`the local relay answered ${response.status}`);
  return valueOrThrow(
    decodeWith(codec, await response.json()),
    () => new CliError(`the local relay answered an unexpected shape at ${path}: is it an older version of this checkout?`),
  );
};

/** A Lambda client for the region the command chose (scripts/stage-settings.ts, `regionFor`). */
export const lambdaFor = (region: string): LambdaClient => new LambdaClient({ region });

/**
 * Invokes a deployed function synchronously and decodes its answer. A function error (thrown in
 * the handler) comes back as `FunctionError` with `{errorType, errorMessage}` in the payload.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
export const invokeFunction = async <C extends t.Mixed>(
  lambda: LambdaClient,
  name: string,
  payload: unknown,
  codec: C,
): Promise<t.TypeOf<C>> => {
  let response: InvokeCommandOutput;
  try {
    response = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException)
      throw new CliError(`function ${name} not found: is the stage deployed in this account and region?`);
    if ((error as Error | undefined)?.name === 'CredentialsProviderError') throw new CliError(`${NO_CREDENTIALS} (to invoke ${name})`);
    const e = error as Error | undefined;
    throw new CliError(`could not invoke ${name}: ${e?.name ?? 'error'}: ${e?.message ?? String(error)}`);
  }
  const text = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8');
  if (response.FunctionError !== undefined) {
    let detail = text;
    try {
      const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
      detail = `${String(parsed.errorType ?? 'Error')}: ${String(parsed.errorMessage ?? '')}`;
    } catch {
      // Not JSON: print it as it came.
    }
    throw new CliError(`${name} failed: ${detail}`);
  }
  return decodeJson(codec, text, name);
};

export const consoleIo = (): Io => ({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  ...(process.stdin.isTTY
    ? {
        ask: async (question: string) => {
          const { createInterface } = await import('node:readline/promises');
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          try {
            return await rl.question(question);
          } finally {
            rl.close();
          }
        },
      }
    : {}),
});

/** Runs a command's `run` as a program: CliError prints its message; anything else its name and message. */
export const runMain = (run: (argv: readonly string[], io: Io) => Promise<number>): void => {
  const io = consoleIo();
  run(process.argv.slice(2), io)
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      const e = error as Error;
      io.err(
        e instanceof CliError
          ? e.message
          : e?.name === 'CredentialsProviderError'
            ? NO_CREDENTIALS
            : `${e?.name ?? 'error'}: ${e?.message ?? String(error)}`,
      );
      process.exitCode = 1;
    });
};
