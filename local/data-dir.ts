import { accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** Where `npm start` keeps its queues and ledger unless told otherwise (relative to the working directory). */
export const DEFAULT_DATA_DIR = '.relay-data';

/** Where the local stack keeps its state: a directory, or nowhere (memory only, gone when it stops). */
export type DataDir = { readonly kind: 'directory'; readonly path: string } | { readonly kind: 'ephemeral'; readonly reason: string };

/**
 * `--ephemeral`, or RELAY_DATA_DIR set to the empty string, keeps everything in memory (throwaway
 * runs, tests); RELAY_DATA_DIR moves the directory; otherwise `./.relay-data`.
 */
export const resolveDataDir = (env: NodeJS.ProcessEnv, ephemeral: boolean, cwd: string = process.cwd()): DataDir => {
  if (ephemeral) return { kind: 'ephemeral', reason: '--ephemeral' };
  const setting = env.RELAY_DATA_DIR;
  if (setting !== undefined && setting.trim() === '') return { kind: 'ephemeral', reason: 'RELAY_DATA_DIR is empty' };
  return { kind: 'directory', path: resolve(cwd, setting ?? DEFAULT_DATA_DIR) };
};

/** The data directory cannot be created or written: the message names the setting, the path and the problem. */
export class DataDirUnusable extends Error {
  override readonly name = 'DataDirUnusable';
  constructor(dir: string, cause: unknown) {
    const code = (cause as { code?: unknown })?.code;
    const problem =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'the file system is read-only'
          : code === 'ENOTDIR' || code === 'EEXIST'
            ? 'a file is in the way, not a directory'
            : code === 'ENOENT'
              ? 'no directory can be made there (its parent takes none, as under /proc)'
              : code === 'ENOSPC'
                ? 'the disk is full'
                : `cannot be opened (${typeof code === 'string' ? code : ((cause as Error)?.message ?? 'unknown')})`;
    super(
      `RELAY_DATA_DIR (${dir}): ${problem}. Give a directory this user can write (RELAY_DATA_DIR=/path), or keep nothing (RELAY_DATA_DIR= or npm start -- --ephemeral).`,
    );
  }
}

/** Another process holds the data directory: two relays on one directory would each think they own its queues. */
export class DataDirInUse extends Error {
  override readonly name = 'DataDirInUse';
}

export interface DataDirLock {
  release(): void;
}

/**
 * Makes `dir` and its missing parents one level at a time, each 0700. Node's own recursive mkdirSync
 * loops forever under /proc (a parent that exists but takes no new directory); this fails at once.
 */
const makeDirectory = (dir: string): void => {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const path of missing) mkdirSync(path, { mode: 0o700 });
};

/**
 * The data directory holds the queues, the ledger and the emulators' credentials: only its owner may
 * read it. A directory made by an earlier version (0755, files 0644) is brought to 0700 and 0600.
 */
const keepPrivate = (dir: string): void => {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    // `parentPath` from Node 20.12, `path` before it.
    const { parentPath, path: parent } = entry as unknown as { parentPath?: string; path?: string };
    const path = join(parentPath ?? parent ?? dir, entry.name);
    if (entry.isDirectory()) chmodSync(path, 0o700);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
};

const LOCK_FILE = 'relay.lock';
const PID_FILE = 'relay.pid';

/**
 * Takes the data directory for this process, or throws DataDirInUse. The lock is SQLite's own
 * exclusive file lock (an fcntl lock, held until the connection closes), so the operating system
 * releases it when the holder dies, even by SIGKILL: a crashed relay never leaves a stale lock.
 * The pid file only names the holder in the message.
 * https://www.sqlite.org/pragma.html#pragma_locking_mode
 */
export const lockDataDir = (dir: string, pid: number = process.pid): DataDirLock => {
  let db: DatabaseSync;
  try {
    makeDirectory(dir);
    accessSync(dir, constants.W_OK);
    keepPrivate(dir);
    db = new DatabaseSync(join(dir, LOCK_FILE));
    chmodSync(join(dir, LOCK_FILE), 0o600);
  } catch (error) {
    throw new DataDirUnusable(dir, error);
  }
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; locking_mode EXCLUSIVE keeps it after the commit.
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)');
    db.exec('DELETE FROM holder');
    db.prepare('INSERT INTO holder (pid, since) VALUES (?, ?)').run(pid, new Date().toISOString());
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    if ((error as { errcode?: unknown }).errcode !== 5 /* SQLITE_BUSY */) throw error;
    let holder = '';
    try {
      holder = ` (pid ${readFileSync(join(dir, PID_FILE), 'utf8').trim()})`;
    } catch {
      // No pid file yet: the other relay is still starting.
    }
    throw new DataDirInUse(
      `the data directory ${dir} is in use by another relay${holder}: stop it first, or give this one its own directory (RELAY_DATA_DIR=...) or none (--ephemeral)`,
    );
  }
  writeFileSync(join(dir, PID_FILE), `${pid}\n`, { mode: 0o600 });
  return { release: () => db.close() };
};
