import { fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { FakeSquadcast } from '../devkit/fake-squadcast';
import { startFakeSquadcast } from '../devkit/fake-squadcast';
import type { Provisioned } from '../local/provision';
import { provision } from '../local/provision';
import type { PackagedFunction, PackagedService } from './bundles';
import { bundleEntry, bundleWorker, PROJECT_ROOT, packageService, resolveEnvironment } from './bundles';
import { BENCH } from './config';

/**
 * What every figure measures against: the functions as `serverless package` bundles them, the
 * workers that load them, the emulators behind their counting proxies, the fake Squadcast and
 * the queues and table provisioned on them.
 */

export const TOKEN = 'bench-webhook-token-0123456789';

const benchStart = Date.now();
/** A progress line on stderr (stdout carries the report). */
export const say = (line: string): void =>
  void process.stderr.write(`[bench ${((Date.now() - benchStart) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

interface AwsProcess {
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  stop(): Promise<void>;
}

/** The emulators and their counting proxies, in a process of their own. */
const startAwsProcess = async (): Promise<AwsProcess> => {
  const child = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['bench/aws-process.ts'], {
    cwd: PROJECT_ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoints = await new Promise<{ sqsEndpoint: string; dynamodbEndpoint: string }>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const line = output.split('\n').find((l) => l.startsWith('{"sqsEndpoint"'));
      if (line !== undefined) resolve(JSON.parse(line) as { sqsEndpoint: string; dynamodbEndpoint: string });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => reject(new Error(`emulators exited:\n${output}`)));
  });
  return {
    ...endpoints,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
};

/** A worker sees only what a Lambda function would: its environment, region and (dummy) credentials. */
export const lambdaLikeEnv = (functionEnv: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_EC2_METADATA_DISABLED: 'true',
  ...functionEnv,
  ...extra,
});

/** ingest's environment in a worker: the token as a value; no previous token (its SSM parameter would be read from AWS itself). */
export const ingestEnv = (h: Harness): NodeJS.ProcessEnv =>
  lambdaLikeEnv(
    resolveEnvironment(h.fn('ingest').environment, { ...h.queues, WEBHOOK_TOKEN: TOKEN, WEBHOOK_TOKEN_PREVIOUS_PARAMETER: '' }),
    h.endpoints,
  );

export const runWorker = <T>(script: string, env: NodeJS.ProcessEnv, settings: unknown): Promise<T> =>
  new Promise((resolve, reject) => {
    const child = fork(script, [], {
      env: { ...env, BENCH_WORKER: JSON.stringify(settings) },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let result: T | undefined;
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('message', (message) => (result = message as T));
    child.once('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`${script} exited ${code}:\n${stderr}`))));
  });

export interface Harness {
  /** A scratch folder, removed at the end. */
  readonly work: string;
  /** What is measured: this project (`head`), or a ref's worktree (`--against`). */
  readonly label: string;
  /** The label as it can go into a resource's or a file's name. */
  readonly slug: string;
  readonly root: string;
  readonly pkg: PackagedService;
  /** A packaged function by its serverless.yml name. */
  fn(name: string): PackagedFunction;
  /** The workers (bench/workers/) and the bare minimums of figures 2 and 3 (bench/minimum/), bundled. */
  readonly ingestWorker: string;
  readonly deliverWorker: string;
  readonly jsonWorker: string;
  readonly ingestMinimum: string;
  readonly deliverMinimum: string;
  readonly aws: { readonly sqsEndpoint: string; readonly dynamodbEndpoint: string };
  readonly squadcast: FakeSquadcast;
  readonly resources: Provisioned;
  readonly queueArn: string;
  /** The SDK endpoint settings and the queue URLs a worker's environment needs. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly queues: Readonly<Record<string, string>>;
}

const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** A label as it can go into a queue's or a table's name, and a file's. */
const slugOf = (label: string): string => label.replace(/[^A-Za-z0-9_.-]+/g, '-');

/** A side's own queues and ledger table on the shared emulators, so that what one side wrote never meets the other. */
const provisionSide = async (aws: Harness['aws'], label: string) => {
  const sqs = new SQSClient({ ...clientConfig, endpoint: aws.sqsEndpoint });
  const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: aws.dynamodbEndpoint });
  try {
    const resources = await provision(sqs, dynamodb, `bench-${slugOf(label)}-${Date.now().toString(36)}`, {
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 1000,
    });
    const queueArn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: resources.alertsQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes
        ?.QueueArn ?? '';
    return {
      resources,
      queueArn,
      queues: { ALERTS_QUEUE_URL: resources.alertsQueueUrl, DEAD_LETTER_QUEUE_URL: resources.deadLetterQueueUrl },
    };
  } finally {
    sqs.destroy();
    dynamodb.destroy();
  }
};

/** The project at `root` packaged (its functions, its serverless.yml) and given its own queues and table. */
const packagedSide = async (work: string, root: string, label: string) => {
  say(`packaging ${label} with serverless (${root})`);
  const pkg: PackagedService = packageService(join(work, `package-${slugOf(label)}`), root);
  const fn = (name: string): PackagedFunction => {
    const found = pkg.functions[name];
    if (found === undefined) throw new Error(`${label}: serverless.yml has no function ${name}`);
    return found;
  };
  return { label, slug: slugOf(label), root, pkg, fn };
};

/**
 * The same harness measuring another project (a ref's worktree): its own bundles, queues and
 * table; the workers, bare minimums, emulators and fake Squadcast are shared, so that only the
 * relay's code differs between the two.
 */
export const sideOf = async (h: Harness, root: string, label: string): Promise<Harness> => {
  const side = await packagedSide(h.work, root, label);
  return { ...h, ...side, ...(await provisionSide(h.aws, label)) };
};

/** Packages, bundles, starts and provisions; each thing started pushes its `stop` on `stops`. */
export const startHarness = async (work: string, stops: (() => Promise<void>)[]): Promise<Harness> => {
  const { label, slug, root, pkg, fn } = await packagedSide(work, PROJECT_ROOT, 'head');
  const ingestWorker = join(work, 'ingest-worker.js');
  const deliverWorker = join(work, 'deliver-worker.js');
  await bundleWorker('bench/workers/ingest-worker.ts', ingestWorker);
  await bundleWorker('bench/workers/deliver-worker.ts', deliverWorker);
  const jsonWorker = join(work, 'json-worker.js');
  await bundleWorker('bench/workers/json-worker.ts', jsonWorker);
  // The bare minimums of figures 2 and 3, bundled exactly like the functions.
  const ingestMinimum = join(work, 'ingest-minimum.js');
  const deliverMinimum = join(work, 'deliver-minimum.js');
  await bundleEntry('bench/minimum/ingest-minimum.ts', ingestMinimum, pkg.esbuildOptions);
  await bundleEntry('bench/minimum/deliver-minimum.ts', deliverMinimum, pkg.esbuildOptions);

  say('starting emulators, counting proxies and the fake Squadcast on 127.0.0.1');
  const aws = await startAwsProcess();
  stops.push(aws.stop);
  const squadcast = await startFakeSquadcast({ key: 'BENCH-FAKE-KEY', delayMs: BENCH.squadcastDelayMs });
  stops.push(squadcast.stop);
  return {
    work,
    label,
    slug,
    root,
    pkg,
    fn,
    ingestWorker,
    deliverWorker,
    jsonWorker,
    ingestMinimum,
    deliverMinimum,
    aws,
    squadcast,
    ...(await provisionSide(aws, label)),
    endpoints: { AWS_ENDPOINT_URL_SQS: aws.sqsEndpoint, AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodbEndpoint },
  };
};
