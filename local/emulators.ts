import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DataDirLock } from './data-dir';
import { lockDataDir } from './data-dir';

export interface Emulators {
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  /** The directory the emulators keep their state in, or undefined when they keep it in memory. */
  readonly dataDir: string | undefined;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Keep queues and tables here (SQLite for SQS, LevelDB for DynamoDB); in memory when undefined. */
  readonly dataDir?: string;
}

const HOST = '127.0.0.1';

/** The parts of fauxqs 2.4 used here (its types are ESM-only, unreadable from this CommonJS project). */
interface FauxqsApp {
  listen(options: { host: string; port: number }): Promise<string>;
  addHook(name: 'preClose', hook: () => void): void;
  close(): Promise<void>;
  readonly server: Server;
}
interface FauxqsQueue {
  readonly name: string;
  url: string;
  persistence?: unknown;
}
interface FauxqsSqsStore {
  host: string;
  persistence?: unknown;
  readonly queues: Map<string, FauxqsQueue>;
  allQueues(): Iterable<FauxqsQueue>;
}
interface FauxqsPersistence {
  readonly db: import('node:sqlite').DatabaseSync;
  load(sqsStore: unknown, snsStore: unknown, s3Store: unknown): void;
  updateMessageReady(messageId: string): void;
  close(): void;
}
type Stores = { sqsStore: FauxqsSqsStore; snsStore: { persistence?: unknown }; s3Store: { persistence?: unknown } };

/** fauxqs exports only its ESM entry; its stores and persistence are reached by file. */
const fauxqsFile = (relative: string): string => {
  for (const dir of require.resolve.paths('fauxqs') ?? []) {
    const candidate = join(dir, 'fauxqs', 'dist', relative);
    if (existsSync(candidate)) return pathToFileURL(candidate).href;
  }
  throw new Error('fauxqs is not installed: run npm ci');
};

/**
 * fauxqs keeps each queue's URL as it was created (with that run's port) and answers CreateQueue
 * and GetQueueUrl with it, while the SDK sends a request to its QueueUrl's host when no explicit
 * endpoint is configured. So after a restart on a new port the URLs are moved to it, in memory
 * only (rewriting the stored row would be an INSERT OR REPLACE, which cascades to the messages).
 * fauxqs itself finds a queue by the name in the URL, whatever its host.
 */
const moveQueueUrls = (sqsStore: FauxqsSqsStore, origin: string): void => {
  for (const queue of [...sqsStore.allQueues()]) {
    const url = `${origin}${new URL(queue.url).pathname}`;
    if (url === queue.url) continue;
    sqsStore.queues.delete(queue.url);
    queue.url = url;
    sqsStore.queues.set(url, queue);
  }
};

/**
 * fauxqs 2.4.1 makes a message visible again (ChangeMessageVisibility to 0) by writing NULL into
 * its NOT NULL receive count: the write throws after the message has left the in-flight set and
 * before it rejoins the queue, so the running emulator loses it until the next start. Releasing a
 * message needs only its lease cleared; the receive count stays, as in SQS.
 */
const repairUpdateMessageReady = (persistence: FauxqsPersistence): void => {
  const clearLease = persistence.db.prepare(
    'UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE message_id = ?',
  );
  persistence.updateMessageReady = (messageId) => {
    clearLease.run(messageId);
  };
};

/**
 * fauxqs with SQLite persistence, wired as fauxqs's own startFauxqs does (load the stored state,
 * then hand the persistence to the stores and to each loaded queue, close it before the server
 * closes), but listening on 127.0.0.1 only: startFauxqs always binds 0.0.0.0. Every mutation is
 * written through; a message in flight when the process died stays in flight until its visibility
 * timeout passes, then comes back, as in SQS.
 */
const startFauxqs = async (dataDir: string | undefined): Promise<{ app: FauxqsApp; port: number }> => {
  const { buildApp } = (await import(fauxqsFile('app.js'))) as { buildApp(options: { logger: boolean; stores: Stores }): FauxqsApp };
  const { SqsStore } = (await import(fauxqsFile('sqs/sqsStore.js'))) as { SqsStore: new () => FauxqsSqsStore };
  const { SnsStore } = (await import(fauxqsFile('sns/snsStore.js'))) as { SnsStore: new () => Stores['snsStore'] };
  const { S3Store } = (await import(fauxqsFile('s3/s3Store.js'))) as { S3Store: new () => Stores['s3Store'] };
  const stores: Stores = { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: new S3Store() };
  // No fixed host: new queue URLs follow the request's Host header (http://127.0.0.1:<port>/...).
  stores.sqsStore.host = '';
  let persistence: FauxqsPersistence | undefined;
  if (dataDir !== undefined) {
    const { PersistenceManager } = (await import(fauxqsFile('persistence.js'))) as {
      PersistenceManager: new (dir: string) => FauxqsPersistence;
    };
    persistence = new PersistenceManager(dataDir);
    repairUpdateMessageReady(persistence);
    // Load first: a store with persistence would write every loaded row back.
    persistence.load(stores.sqsStore, stores.snsStore, stores.s3Store);
    stores.sqsStore.persistence = persistence;
    stores.snsStore.persistence = persistence;
    stores.s3Store.persistence = persistence;
    for (const queue of stores.sqsStore.allQueues()) queue.persistence = persistence;
  }
  const app = buildApp({ logger: false, stores });
  if (persistence !== undefined) {
    const opened = persistence;
    app.addHook('preClose', () => opened.close());
  }
  await app.listen({ host: HOST, port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  moveQueueUrls(stores.sqsStore, `http://${HOST}:${port}`);
  return { app, port };
};

/**
 * dynalite, in memory or in LevelDB under `path`. LevelDB appends each write to its log before
 * answering, so a write the relay saw succeed survives a SIGKILL of the process.
 */
const startDynalite = async (path: string | undefined): Promise<{ server: Server; port: number }> => {
  const dynalite = require('dynalite') as (options: {
    createTableMs: number;
    deleteTableMs: number;
    updateTableMs: number;
    path?: string;
  }) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path === undefined ? {} : { path }) });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  return { server, port: (server.address() as AddressInfo).port };
};

/**
 * Starts the SQS emulator (fauxqs 2.x) and the DynamoDB emulator (dynalite), both on 127.0.0.1
 * and free ports, in memory or, with `dataDir`, persisted under it (`sqs/fauxqs.db`, `dynamodb/`).
 * A data directory is locked for the life of the process: a second relay on it is refused
 * (DataDirInUse) before either emulator opens a file.
 */
export const startEmulators = async (options: EmulatorOptions = {}): Promise<Emulators> => {
  const lock: DataDirLock | undefined = options.dataDir === undefined ? undefined : lockDataDir(options.dataDir);
  const dir = (name: string): string | undefined => (options.dataDir === undefined ? undefined : join(options.dataDir, name));
  let sqs: { app: FauxqsApp; port: number } | undefined;
  try {
    sqs = await startFauxqs(dir('sqs'));
    const dynamo = await startDynalite(dir('dynamodb'));
    const fauxqs = sqs;
    return {
      sqsEndpoint: `http://${HOST}:${fauxqs.port}`,
      dynamodbEndpoint: `http://${HOST}:${dynamo.port}`,
      dataDir: options.dataDir,
      stop: async () => {
        try {
          await fauxqs.app.close();
          await new Promise<void>((resolve) => dynamo.server.close(() => resolve()));
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    await sqs?.app.close().catch(() => undefined);
    lock?.release();
    throw error;
  }
};

/** `tsx local/emulators.ts`: runs the emulators alone (in memory) and prints their endpoints as one JSON line. */
if (require.main === module) {
  void startEmulators().then((emulators) => {
    process.stdout.write(`${JSON.stringify({ sqsEndpoint: emulators.sqsEndpoint, dynamodbEndpoint: emulators.dynamodbEndpoint })}\n`);
    const stop = (): void => void emulators.stop().finally(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
