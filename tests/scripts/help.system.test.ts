import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every npm script that takes options answers `--help` with its usage and exit 0, and does nothing
 * else: no bench starts, no drill runs, no file is written.
 */
const ROOT = join(__dirname, '..', '..');

const run = (file: string, args: readonly string[]): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => resolve({ code, output }));
  });

describe('--help', () => {
  it.each<[string, string, RegExp]>([
    ['npm run bench', 'bench/run.ts', /^usage: npm run bench /],
    ['npm run bench:recovery', 'bench/recovery.ts', /^usage: npm run bench:recovery /],
    ['npm run docs:layers', 'scripts/layers-diagram.ts', /^usage: npm run docs:layers /],
  ])(
    '%s -- --help prints the usage, exits 0 and changes nothing',
    async (_name, file, usage) => {
      const before = statSync(join(ROOT, 'docs', 'architecture.md')).mtimeMs;
      const { code, output } = await run(file, ['--', '--help']);
      expect({ code, output: output.slice(0, 60) }).toEqual({ code: 0, output: expect.stringMatching(usage) });
      expect(output).not.toMatch(/\n\s+at /);
      expect(statSync(join(ROOT, 'docs', 'architecture.md')).mtimeMs).toBe(before);
    },
    60_000,
  );

  it.each<[string, string, string]>([
    ['npm run bench:recovery', 'bench/recovery.ts', 'unknown scenario nope'],
    ['npm run docs:layers', 'scripts/layers-diagram.ts', 'unknown option nope'],
  ])(
    '%s with a wrong argument says so with the usage, exits 1, no stack trace',
    async (_name, file, said) => {
      const { code, output } = await run(file, ['nope']);
      expect(code).toBe(1);
      expect(output).toContain(said);
      expect(output).toContain('usage: ');
      expect(output).not.toMatch(/\n\s+at /);
    },
    60_000,
  );
});
