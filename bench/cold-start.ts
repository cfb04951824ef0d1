import { spawnSync } from 'node:child_process';
import type { BuildOptions } from 'esbuild';
import { bundleSource } from './bundles';

/** The SDK clients a function constructs at init: the bare reference constructs the same, and nothing else. */
export const INIT_CLIENTS: Readonly<Record<string, readonly ('sqs' | 'dynamodb')[]>> = {
  ingest: ['sqs'],
  deliver: ['sqs', 'dynamodb'],
  status: ['sqs', 'dynamodb'],
  testAlert: ['sqs'],
};

const CLIENT_IMPORTS = {
  sqs: { module: '@aws-sdk/client-sqs', name: 'SQSClient' },
  dynamodb: { module: '@aws-sdk/client-dynamodb', name: 'DynamoDBClient' },
} as const;

/** A handler that only creates the given clients at load: the least a function with those clients can cost. */
export const bareHandlerSource = (clients: readonly ('sqs' | 'dynamodb')[]): string =>
  [
    ...clients.map((client) => `import { ${CLIENT_IMPORTS[client].name} } from '${CLIENT_IMPORTS[client].module}';`),
    `const clients = [${clients.map((client) => `new ${CLIENT_IMPORTS[client].name}({})`).join(', ')}];`,
    'export const handler = async (): Promise<number> => clients.length;',
  ].join('\n');

export const buildBareBundle = (clients: readonly ('sqs' | 'dynamodb')[], outfile: string, options: BuildOptions): Promise<number> =>
  bundleSource(bareHandlerSource(clients), outfile, options);

/** Loads a bundle in the child and prints how long `require` took: module evaluation plus the function's init code. */
const LOAD_SCRIPT = 'const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';

/** One fresh `node` process: milliseconds to load the bundle and run its init. */
export const timeLoad = (bundlePath: string, env: NodeJS.ProcessEnv): number => {
  const result = spawnSync(process.execPath, ['-e', LOAD_SCRIPT, bundlePath], { env, encoding: 'utf8' });
  const ms = Number(result.stdout);
  if (result.status !== 0 || !Number.isFinite(ms)) throw new Error(`loading ${bundlePath} failed (${result.status}): ${result.stderr}`);
  return ms;
};

export interface ColdStartSamples {
  readonly realMs: number[];
  readonly bareMs: number[];
}

/** Real and bare bundles alternate, so a busy moment on the machine hits both alike. */
export const sampleColdStarts = (realPath: string, barePath: string, env: NodeJS.ProcessEnv, runs: number): ColdStartSamples => {
  const realMs: number[] = [];
  const bareMs: number[] = [];
  timeLoad(realPath, env); // page cache
  timeLoad(barePath, env);
  for (let run = 0; run < runs; run++) {
    if (run % 2 === 0) {
      realMs.push(timeLoad(realPath, env));
      bareMs.push(timeLoad(barePath, env));
    } else {
      bareMs.push(timeLoad(barePath, env));
      realMs.push(timeLoad(realPath, env));
    }
  }
  return { realMs, bareMs };
};
