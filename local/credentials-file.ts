import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as t from 'io-ts';
import { decodeWith } from '../lib/common/checked';
import type { EmulatorCredentials } from './emulators';

/**
 * The embedded emulators' per-start credentials, for this machine's tools (`redrive`, `dead-letters`
 * with `--local`): in a file only its owner can read (0600), in the data directory, or in a private
 * temporary directory (0700) when the relay keeps nothing. Never served over HTTP: any local process
 * can make a request to 127.0.0.1, and with these credentials it could page someone (a message on
 * the alerts queue) or silence an alert (a delete, a ledger write). `GET /local/queues` gives only
 * where the file is.
 */
export const CREDENTIALS_FILE = 'local-credentials.json';

const CredentialsCodec = t.type({ accessKeyId: t.string, secretAccessKey: t.string });

export interface CredentialsFile {
  readonly path: string;
  /** Removes the file (and its temporary directory, if the relay made one). */
  remove(): void;
}

/** Writes the credentials where the tools find them: `dir` (the data directory), else a new private temporary directory. */
export const writeCredentialsFile = (credentials: EmulatorCredentials, dir?: string): CredentialsFile => {
  const own = dir === undefined ? mkdtempSync(join(tmpdir(), 'relay-local-')) : undefined;
  const path = join(own ?? dir ?? '', CREDENTIALS_FILE);
  writeFileSync(path, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
  // A file left by an earlier start keeps its old mode through writeFileSync: set it.
  chmodSync(path, 0o600);
  return {
    path,
    remove: () => rmSync(own ?? path, { recursive: true, force: true }),
  };
};

/** The credentials in `path`, or an error that says why they cannot be read (never their value). */
export const readCredentialsFile = (path: string): EmulatorCredentials => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(
      `cannot read the local relay's credentials in ${path} (${typeof code === 'string' ? code : 'unreadable'}): run this as the user that runs npm start`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const decoded = decodeWith(CredentialsCodec, parsed);
  if (decoded.kind === 'invalid') throw new Error(`the local relay's credentials file ${path} is not what npm start writes: restart it`);
  return decoded.value;
};
