import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_DEFAULTS } from '../local/stack';
import { parseOptions } from './args';
import type { Io } from './cli';
import { CliError, localLinks, runMain } from './cli';

const USAGE = [
  'usage: npm run send-sample [-- --port <port>] [--token <webhook token>]',
  '  Posts events/sample-batch.json (three alerts, fresh ids, the current time) to the local relay',
  '  (npm start) as Threat Stack would. The port: --port, else PORT, else 3000; the token: --token,',
  '  else WEBHOOK_TOKEN, else the local default.',
].join('\n');

export interface SendSampleDeps {
  readonly fetch: typeof fetch;
  readonly sample: () => { readonly alerts: ReadonlyArray<Record<string, unknown>> };
  readonly now: () => number;
}

const defaultDeps: SendSampleDeps = {
  fetch,
  sample: () => JSON.parse(readFileSync(join(__dirname, '..', 'events', 'sample-batch.json'), 'utf8')),
  now: Date.now,
};

/** `npm run send-sample`: a sample batch to the running local stack, then where to look. */
export const run = async (argv: readonly string[], io: Io, deps: SendSampleDeps = defaultDeps): Promise<number> => {
  const options = parseOptions(argv, { port: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  const port = options.port ?? (process.env.PORT || LOCAL_DEFAULTS.PORT);
  const token = options.token ?? (process.env.WEBHOOK_TOKEN || LOCAL_DEFAULTS.WEBHOOK_TOKEN);
  const stamp = deps.now();
  const alerts = deps.sample().alerts.map((alert, i) => ({ ...alert, id: `sample-${stamp}-${i}`, created_at: stamp }));
  let response: Response;
  try {
    response = await deps.fetch(`http://127.0.0.1:${port}/threatstack/${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ alerts }),
    });
  } catch {
    throw new CliError(`could not reach the local relay on 127.0.0.1:${port}: is npm start running?`);
  }
  io.out(`${response.status} ${await response.text()}`);
  if (response.status === 403)
    // Ingest answers both refusals alike (no oracle for a caller): its own log line says which it was.
    throw new CliError(
      "the local relay refused the call (403): the token (pass the relay's WEBHOOK_TOKEN: --token, or WEBHOOK_TOKEN in the environment), " +
        "or this machine's address (ALLOWED_SOURCE_IPS must hold 127.0.0.1); the relay's terminal says which (reason: token or source-ip)",
    );
  if (!response.ok) return 1;
  io.out(`Sent ${alerts.length} alerts (${alerts.map((alert) => alert.id).join(', ')}). Look next:`);
  for (const line of localLinks(port)) io.out(line);
  return 0;
};

if (require.main === module) runMain((argv, io) => run(argv, io));
