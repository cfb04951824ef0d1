import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lockDataDir } from '../../local/data-dir';
import { tempDirs } from '../helpers/temp-dirs';

/** The data directory's lock across processes: another process is refused, and a crash releases it. */
const freshDir = tempDirs('relay-data-dir-');

describe('lockDataDir across processes', () => {
  it('is refused to another process while held, and free again once its holder is SIGKILLed (the OS drops the lock)', () => {
    const dir = freshDir();
    const script = `
      const { lockDataDir } = require(${JSON.stringify(join(__dirname, '..', '..', 'local', 'data-dir.ts'))});
      try { lockDataDir(process.argv[1]); console.log('locked'); } catch (e) { console.log(e.name); }
      if (process.argv[2] === 'die') process.kill(process.pid, 'SIGKILL');
    `;
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script, dir, ...args], { encoding: 'utf8' }).stdout.trim();
    const held = lockDataDir(dir);
    expect(run()).toBe('DataDirInUse');
    held.release();
    expect(run('die')).toBe('locked');
    expect(run()).toBe('locked');
  });
});
