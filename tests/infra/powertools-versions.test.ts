import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Every Powertools package on one version, so that npm installs one `@aws-lambda-powertools/commons`
 * and each bundle holds one copy of it (tests/infra/template.test.ts looks inside the bundles).
 */
const root = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
};

const POWERTOOLS = /^@aws-lambda-powertools\//;

test('the Powertools packages the relay depends on are pinned to one version', () => {
  const pinned = Object.entries(manifest.dependencies).filter(([name]) => POWERTOOLS.test(name));
  expect(pinned.map(([name]) => name).sort()).toEqual([
    '@aws-lambda-powertools/logger',
    '@aws-lambda-powertools/metrics',
    '@aws-lambda-powertools/parameters',
  ]);
  expect(new Set(pinned.map(([, version]) => version)).size).toBe(1);
  expect(pinned[0]?.[1]).toMatch(/^\d+\.\d+\.\d+$/);
});

test('the lockfile installs one @aws-lambda-powertools/commons, of that version, which every Powertools package asks for', () => {
  const version = manifest.dependencies['@aws-lambda-powertools/logger'];
  const installed = Object.entries(lock.packages).filter(([path]) => path.endsWith('node_modules/@aws-lambda-powertools/commons'));
  expect(installed.map(([path, entry]) => [path, entry.version])).toEqual([['node_modules/@aws-lambda-powertools/commons', version]]);
  const wanted = Object.entries(lock.packages)
    .filter(([path]) => POWERTOOLS.test(path.replace(/^node_modules\//, '')))
    .map(([, entry]) => entry.dependencies?.['@aws-lambda-powertools/commons'])
    .filter((range) => range !== undefined);
  expect(wanted.length).toBeGreaterThanOrEqual(3);
  expect(new Set(wanted)).toEqual(new Set([version]));
});
