import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RelayStatus } from '../lib/status/relay-status';
import { RelayStatusCodec } from '../lib/status/relay-status';
import { commandOptions } from './args';
import type { Io } from './cli';
import { chooseTarget, functionName, invokeFunction, lambdaFor, readLocalJson, runMain } from './cli';
import { formatStatus } from './format-status';
import type { ChosenRegion } from './stage-settings';
import { regionFor } from './stage-settings';

const USAGE = [
  'usage: npm run status -- --stage <stage> [--region <region>] [--json]',
  '       npm run status -- --local [--port <port>] [--json]   (the `npm start` stack)',
].join('\n');

export interface StatusDeps {
  /** Builds the Lambda client for the chosen region. */
  readonly lambda: (region: string) => LambdaClient;
  readonly fetch: typeof fetch;
  /** --region, else the SDK's usual settings, else the stage's settings in serverless.yml. */
  readonly region?: (flag: string | undefined, stage: string) => Promise<ChosenRegion>;
}

const defaultDeps: StatusDeps = { lambda: lambdaFor, fetch, region: regionFor };

/** Reads the local stack's GET /status (JSON), the same handler as the deployed function, decoded. */
/** The local stack's status; with `alertId`, that alert's record too (`?alert=`). */
export const readLocalStatus = (port: string, doFetch: typeof fetch, alertId?: string): Promise<RelayStatus> =>
  readLocalJson(port, alertId === undefined ? '/status' : `/status?alert=${encodeURIComponent(alertId)}`, RelayStatusCodec, doFetch);

/** `npm run status`: invokes the deployed `status` function (or reads the local stack) and prints the facts. */
export const run = async (argv: readonly string[], io: Io, deps: StatusDeps = defaultDeps): Promise<number> => {
  const options = commandOptions(
    argv,
    {
      json: { type: 'boolean' },
    },
    USAGE,
    io,
  );
  if (options === undefined) return 0;
  const target = await chooseTarget(options, io, USAGE, deps.region ?? regionFor);
  let status: RelayStatus;
  let heading: string;
  if (target.kind === 'local') {
    status = await readLocalStatus(target.port, deps.fetch);
    heading = `Threat Stack → Squadcast relay, local stack on 127.0.0.1:${target.port}`;
  } else {
    const name = functionName(target.stage, 'status');
    status = await invokeFunction(deps.lambda(target.region), name, {}, RelayStatusCodec);
    heading = `Threat Stack → Squadcast relay, stage ${target.stage} (${name})`;
  }
  io.out(options.json ? JSON.stringify(status, null, 2) : formatStatus(status, { color: io.color === true, heading }));
  return 0;
};

if (require.main === module) runMain((argv, io) => run(argv, io));
