import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirInUse, lockDataDir, resolveDataDir } from '../../local/data-dir';
import { tempDirs } from '../helpers/temp-dirs';

const freshDir = tempDirs('relay-data-dir-');

describe('resolveDataDir', () => {
  it.each<[string, NodeJS.ProcessEnv, boolean, ReturnType<typeof resolveDataDir>]>([
    ['the default', {}, false, { kind: 'directory', path: '/srv/relay/.relay-data' }],
    ['RELAY_DATA_DIR, relative', { RELAY_DATA_DIR: 'state' }, false, { kind: 'directory', path: '/srv/relay/state' }],
    ['RELAY_DATA_DIR, absolute', { RELAY_DATA_DIR: '/var/lib/relay' }, false, { kind: 'directory', path: '/var/lib/relay' }],
    ['RELAY_DATA_DIR empty', { RELAY_DATA_DIR: '' }, false, { kind: 'ephemeral', reason: 'RELAY_DATA_DIR is empty' }],
    ['RELAY_DATA_DIR blank', { RELAY_DATA_DIR: '  ' }, false, { kind: 'ephemeral', reason: 'RELAY_DATA_DIR is empty' }],
    ['--ephemeral', {}, true, { kind: 'ephemeral', reason: '--ephemeral' }],
    ['--ephemeral wins over RELAY_DATA_DIR', { RELAY_DATA_DIR: 'state' }, true, { kind: 'ephemeral', reason: '--ephemeral' }],
  ])('%s', (_what, env, ephemeral, expected) => {
    expect(resolveDataDir(env, ephemeral, '/srv/relay')).toEqual(expected);
  });
});

describe('lockDataDir', () => {
  it('creates the directory, names its holder, refuses a second holder until the first releases', () => {
    const dir = join(freshDir(), 'nested', 'data');
    const first = lockDataDir(dir, 4242);
    expect(existsSync(dir)).toBe(true);
    expect(readFileSync(join(dir, 'relay.pid'), 'utf8')).toBe('4242\n');
    expect(() => lockDataDir(dir, 5151)).toThrow(DataDirInUse);
    expect(() => lockDataDir(dir, 5151)).toThrow(
      `the data directory ${dir} is in use by another relay (pid 4242): stop it first, or give this one its own directory (RELAY_DATA_DIR=...) or none (--ephemeral)`,
    );
    first.release();
    const second = lockDataDir(dir, 5151);
    expect(readFileSync(join(dir, 'relay.pid'), 'utf8')).toBe('5151\n');
    second.release();
  });
});
