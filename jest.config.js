/**
 * Two test speeds, one command (docs/testing.md).
 * - `unit`: in-process only. No emulator, no child process, no packaging; a socket only to a fake
 *   served by the test itself. The inner loop: `npm run test:unit`.
 * - `system`: what proves the wire: emulators, the relay in its own process, `serverless package`,
 *   cfn-lint, the browser. A file belongs here when it sits in one of SYSTEM_DIRS or is named
 *   `*.system.test.ts`; every other test file is a unit test, and tests/helpers/unit-scope.ts makes
 *   a unit file that starts a process fail with a message saying where it belongs.
 * `npm test` runs both (with coverage of lib/); CI runs `npm test`.
 */
const { availableParallelism } = require('node:os');

const SYSTEM_DIRS = ['conservation', 'integration', 'load', 'e2e', 'infra'];
const systemTests = [...SYSTEM_DIRS.map((dir) => `<rootDir>/tests/${dir}/**/*.test.ts`), '<rootDir>/tests/**/*.system.test.ts'];

const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

const projects = [
  {
    displayName: 'unit',
    testEnvironment: 'node',
    roots: ['<rootDir>/tests'],
    testMatch: ['<rootDir>/tests/**/*.test.ts'],
    testPathIgnorePatterns: ['/node_modules/', ...SYSTEM_DIRS.map((dir) => `<rootDir>/tests/${dir}/`), '\\.system\\.test\\.ts$'],
    setupFilesAfterEnv: ['<rootDir>/tests/helpers/unit-scope.ts'],
    transform,
  },
  {
    displayName: 'system',
    testEnvironment: 'node',
    roots: ['<rootDir>/tests'],
    testMatch: systemTests,
    transform,
  },
];

/** `JEST_PROJECTS=unit jest` runs one project (npm run test:unit) and keeps every jest flag and path usable. */
const selected = (process.env.JEST_PROJECTS ?? '').split(',').filter((name) => name !== '');

/** @type {import('jest').Config} */
module.exports = {
  projects: selected.length === 0 ? projects : projects.filter((project) => selected.includes(project.displayName)),
  // Jest's default on 2 cores is one worker; system tests mostly wait on sockets and processes, so
  // one and a half workers a core. A number: jest reads a percentage above 100% as a worker count
  // ('150%' started 150 workers, which a file's worth of setup each and jest's "a worker process has
  // failed to exit gracefully" at the end of every run).
  maxWorkers: Math.max(2, Math.ceil(availableParallelism() * 1.5)),
  // A global setting in jest (not per project); slow system tests set their own.
  testTimeout: 60_000,
  // Coverage of the relay itself, measured in-process (code run in a child process is not counted).
  // The thresholds are the level of 2026-12-04, rounded down: lowering them is a decision, not an accident.
  collectCoverageFrom: ['<rootDir>/lib/**/*.ts'],
  coverageProvider: 'v8',
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: { global: { statements: 99, branches: 97, functions: 99, lines: 99 } },
};
