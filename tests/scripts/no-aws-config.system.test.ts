import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The README's day-to-day commands, run as written on a machine with no AWS configuration at all
 * (no region, no profile, no credentials; no instance metadata either, so nothing leaves loopback).
 * Each finds its region (the stage's, from serverless.yml), says which, and fails only for want of
 * credentials, with a message that says what to do: never "Region is missing".
 */
const ROOT = join(__dirname, '..', '..');
let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'relay-no-aws-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** The process environment without a single AWS_ setting, in a home with no ~/.aws. */
const bareEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
  HOME: home,
  AWS_EC2_METADATA_DISABLED: 'true',
});

const runScript = (script: string, args: readonly string[]): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('scripts', `${script}.ts`), ...args], {
      cwd: ROOT,
      env: bareEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => resolve({ code, output }));
  });

describe("the README's operator commands on a machine with no AWS configuration", () => {
  it.each([
    ['status', '--stage prod'],
    ['test-alert', '--stage prod'],
    ['redrive', '--stage prod'],
    ['dead-letters', '--stage prod'],
  ])('npm run %s -- %s: the stage region, then only the missing credentials', async (script, args) => {
    const { code, output } = await runScript(script, args.split(' '));
    expect(output).toContain('region us-east-1 (serverless.yml params, where stage prod is deployed)');
    expect(output).toContain('no AWS credentials: log in (aws sso login, a profile, or AWS_ACCESS_KEY_ID) and run it again');
    expect(output).not.toMatch(/Region is missing/i);
    expect(code).toBe(1);
  });
});
