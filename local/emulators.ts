import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Emulators {
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** The part of fauxqs's API used here (its types are ESM-only, unreadable from this CommonJS project). */
interface FauxqsModule {
  buildApp(options: { logger: boolean; stores: unknown }): {
    listen(options: { host: string; port: number }): Promise<string>;
    close(): Promise<void>;
    readonly server: import('node:http').Server;
  };
}

/** fauxqs exports only its ESM entry; its store class is reached by file to leave the queue host unset. */
const fauxqsFile = (relative: string): string => {
  for (const dir of require.resolve.paths('fauxqs') ?? []) {
    const candidate = join(dir, 'fauxqs', 'dist', relative);
    if (existsSync(candidate)) return pathToFileURL(candidate).href;
  }
  throw new Error('fauxqs is not installed: run npm ci');
};

/**
 * Starts the SQS emulator (fauxqs 2.x) and the DynamoDB emulator (dynalite, in memory), both on
 * 127.0.0.1 and free ports. fauxqs's own CLI binds 0.0.0.0, so it is started from code; its store
 * gets no fixed host, so queue URLs follow the request's Host header (http://127.0.0.1:<port>/...),
 * which keeps the SDK's "QueueUrl as endpoint" rule pointing at the emulator.
 */
export const startEmulators = async (): Promise<Emulators> => {
  const fauxqs = (await import(fauxqsFile('app.js'))) as FauxqsModule;
  const { SqsStore } = (await import(fauxqsFile('sqs/sqsStore.js'))) as { SqsStore: new () => { host: string } };
  const { SnsStore } = (await import(fauxqsFile('sns/snsStore.js'))) as { SnsStore: new () => unknown };
  const { S3Store } = (await import(fauxqsFile('s3/s3Store.js'))) as { S3Store: new () => unknown };
  const sqsStore = new SqsStore();
  sqsStore.host = '';
  const sqs = fauxqs.buildApp({ logger: false, stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() } });
  await sqs.listen({ host: HOST, port: 0 });
  const sqsPort = (sqs.server.address() as AddressInfo).port;

  const dynalite = require('dynalite') as (options: {
    createTableMs: number;
    deleteTableMs: number;
    updateTableMs: number;
  }) => import('node:http').Server;
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => dynamo.once('error', reject).listen(0, HOST, resolve));
  const dynamoPort = (dynamo.address() as AddressInfo).port;

  return {
    sqsEndpoint: `http://${HOST}:${sqsPort}`,
    dynamodbEndpoint: `http://${HOST}:${dynamoPort}`,
    stop: async () => {
      await sqs.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
};

/** `tsx local/emulators.ts`: runs the emulators alone and prints their endpoints as one JSON line. */
if (require.main === module) {
  void startEmulators().then((emulators) => {
    process.stdout.write(`${JSON.stringify({ sqsEndpoint: emulators.sqsEndpoint, dynamodbEndpoint: emulators.dynamodbEndpoint })}\n`);
    const stop = (): void => void emulators.stop().finally(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
