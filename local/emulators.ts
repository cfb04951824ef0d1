import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DataDirLock } from './data-dir';
import { lockDataDir } from './data-dir';

/** AWS credentials, as the SDK takes them. */
export interface EmulatorCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Emulators {
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  /** The only credentials the emulators accept: new at every start. */
  readonly credentials: EmulatorCredentials;
  /** The directory the emulators keep their state in, or undefined when they keep it in memory. */
  readonly dataDir: string | undefined;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Keep queues and tables here (SQLite for SQS, LevelDB for DynamoDB); in memory when undefined. */
  readonly dataDir?: string;
  /** The credentials to require; random ones when undefined. */
  readonly credentials?: EmulatorCredentials;
  /**
   * Check that Host names the emulator itself (true unless told). Only the benchmark turns it off:
   * it reaches the emulators through counting proxies that keep the client's Host.
   */
  readonly checkHost?: boolean;
}

/** Fresh credentials for one start of the emulators: a page cannot guess them. */
export const randomCredentials = (): EmulatorCredentials => ({
  accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(24).toString('base64url'),
});

/**
 * Why a request must not reach an emulator, or undefined. The emulators answer any web page
 * otherwise (dynalite even sends Access-Control-Allow-Origin: *), and a page that found their port in
 * the banner could mark an alert delivered (so it never pages) or read the queued alerts, DNS
 * rebinding included. Only the relay and this machine's tools talk to them: no Origin (browsers add
 * it to every cross-origin request, and to every POST), a Host that is the emulator's own address,
 * and a SigV4 signature by the per-start access key.
 */
export const refusedRequest = (request: IncomingMessage, port: number, accessKeyId: string, checkHost = true): string | undefined => {
  if (request.headers.origin !== undefined) return 'requests from web pages are refused';
  const host = request.headers.host?.toLowerCase();
  if (checkHost && host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return 'the Host header does not name this emulator';
  const authorization = request.headers.authorization ?? '';
  if (!authorization.includes(`Credential=${accessKeyId}/`)) return "the request is not signed with this relay's local credentials";
  return undefined;
};

/** Puts the gate in front of a server's own request handlers. */
const gate = (server: Server, port: () => number, accessKeyId: string, checkHost: boolean): void => {
  const handlers = server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const refused = refusedRequest(request, port(), accessKeyId, checkHost);
    if (refused === undefined) {
      for (const handler of handlers) handler.call(server, request, response);
      return;
    }
    response.writeHead(403, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ __type: 'AccessDeniedException', message: `forbidden: ${refused}` }));
  });
};

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
const startFauxqs = async (
  dataDir: string | undefined,
  accessKeyId: string,
  checkHost: boolean,
): Promise<{ app: FauxqsApp; port: number }> => {
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
  let port = 0;
  gate(app.server, () => port, accessKeyId, checkHost);
  if (persistence !== undefined) {
    const opened = persistence;
    app.addHook('preClose', () => opened.close());
  }
  await app.listen({ host: HOST, port: 0 });
  port = (app.server.address() as AddressInfo).port;
  moveQueueUrls(stores.sqsStore, `http://${HOST}:${port}`);
  return { app, port };
};

/**
 * dynalite, in memory or in LevelDB under `path`. LevelDB appends each write to its log before
 * answering, so a write the relay saw succeed survives a SIGKILL of the process.
 */
const startDynalite = async (
  path: string | undefined,
  accessKeyId: string,
  checkHost: boolean,
): Promise<{ server: Server; port: number }> => {
  const dynalite = require('dynalite') as (options: {
    createTableMs: number;
    deleteTableMs: number;
    updateTableMs: number;
    path?: string;
  }) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path === undefined ? {} : { path }) });
  let port = 0;
  gate(server, () => port, accessKeyId, checkHost);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  port = (server.address() as AddressInfo).port;
  return { server, port };
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
  const credentials = options.credentials ?? randomCredentials();
  let sqs: { app: FauxqsApp; port: number } | undefined;
  try {
    const checkHost = options.checkHost ?? true;
    sqs = await startFauxqs(dir('sqs'), credentials.accessKeyId, checkHost);
    const dynamo = await startDynalite(dir('dynamodb'), credentials.accessKeyId, checkHost);
    const fauxqs = sqs;
    return {
      sqsEndpoint: `http://${HOST}:${fauxqs.port}`,
      dynamodbEndpoint: `http://${HOST}:${dynamo.port}`,
      credentials,
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

/** `tsx local/emulators.ts`: runs the emulators alone (in memory) and prints their endpoints and credentials as one JSON line. */
if (require.main === module) {
  void startEmulators().then((emulators) => {
    const { sqsEndpoint, dynamodbEndpoint, credentials } = emulators;
    process.stdout.write(`${JSON.stringify({ sqsEndpoint, dynamodbEndpoint, credentials })}\n`);
    const stop = (): void => void emulators.stop().finally(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
