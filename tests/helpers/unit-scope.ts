/**
 * Keeps the `unit` project in-process (jest.config.js): a unit test that starts a child process
 * fails at once, saying where it belongs, instead of slowing the inner loop. The functions are put
 * back after the file, because a jest worker runs files of both projects.
 */
import childProcess from 'node:child_process';

const STARTERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

const refuse = (name: string) => (): never => {
  throw new Error(
    `child_process.${name} in a unit test: unit tests run in-process. A test that needs a process, an emulator or ` +
      'packaging is a system test: put it under tests/{conservation,integration,load,e2e,infra}/ or name it *.system.test.ts.',
  );
};

const spies = STARTERS.map((name) => jest.spyOn(childProcess, name).mockImplementation(refuse(name) as never));

afterAll(() => {
  for (const spy of spies) spy.mockRestore();
});
