// First, before any module that loads node:sqlite.
import './require-node';
import { parseArgs } from 'node:util';
import { resolveDataDir } from './data-dir';
import { describeStop, describeStorage } from './describe-stop';
import { SAME_CTRL_C_MS } from './settings';
import type { LocalStack } from './stack';
import { LOCAL_DEFAULTS, STOP_GRACE_MS, startLocalStack } from './stack';

const USAGE = [
  'usage: npm start [-- --ephemeral]',
  '  The whole relay on 127.0.0.1, with embedded SQS and DynamoDB emulators; what it accepts is kept in',
  '  ./.relay-data (RELAY_DATA_DIR), or nowhere with --ephemeral. Settings come from the environment:',
  '  PORT, WEBHOOK_TOKEN, SQUADCAST_WEBHOOK_URL, LOG_FORMAT=json ... (docs/local.md, "Settings").',
].join('\n');

const readArgs = (): { ephemeral: boolean; help: boolean } => {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: { ephemeral: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    return { ephemeral: values.ephemeral === true, help: values.help === true };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
};

/** A start error, said so that the person knows what to change. */
const explain = (error: unknown, port: string | undefined): string => {
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE')
    return `port ${port ?? LOCAL_DEFAULTS.PORT} on 127.0.0.1 is in use: stop what uses it, or choose another port with PORT=<port> (PORT=0 picks a free one)`;
  return e?.message ?? String(error);
};

const printBanner = (stack: LocalStack): void => {
  const port = String(stack.port) === LOCAL_DEFAULTS.PORT ? '' : ` --port ${stack.port}`;
  console.log(
    [
      `Threat Stack → Squadcast relay, running locally on Node ${process.version} (the project's pinned Node; Lambda runs nodejs24.x)`,
      `  webhook (POST)   ${stack.webhookUrl}`,
      `  status  (GET)    ${stack.statusUrl}`,
      `  squadcast        ${stack.squadcastTarget === 'local inbox' ? `local inbox, listed at http://127.0.0.1:${stack.port}/local/incidents` : 'SQUADCAST_WEBHOOK_URL (not printed: it holds the key)'}`,
      `  allowed sources  ${stack.allowedSourceIps}`,
      `  rate ceiling     ${stack.ceilingPerMinute} incidents a minute (SQUADCAST_MAX_PER_MINUTE)`,
      `  SQS              ${stack.sqsEndpoint}${stack.embeddedEmulators ? ' (embedded)' : ''}`,
      `  DynamoDB         ${stack.dynamodbEndpoint}${stack.embeddedEmulators ? ' (embedded)' : ''}`,
      `  data             ${describeStorage(stack.storage)}`,
      `  try: npm run send-sample${port === '' ? '' : ` --${port}`}    npm run test-alert -- --local${port}    stop: Ctrl-C`,
    ].join('\n'),
  );
};

/** `npm start`: the relay on 127.0.0.1 with its embedded defaults. */
const main = async (): Promise<void> => {
  const { ephemeral, help } = readArgs();
  if (help) {
    console.log(USAGE);
    return;
  }
  // Everything this process (and the emulators in it) creates is its user's alone: the data directory
  // holds the queues, the ledger and the emulators' credentials.
  process.umask(0o077);
  const stack = await startLocalStack(process.env, resolveDataDir(process.env, ephemeral));
  printBanner(stack);
  let stoppingSince: number | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    const now = performance.now();
    if (stoppingSince !== undefined) {
      // The same Ctrl-C, seen again (or passed on): the graceful stop goes on.
      if (now - stoppingSince < SAME_CTRL_C_MS) return;
      // A second, deliberate Ctrl-C: quit now. What was accepted is safe in the data directory, as after a crash.
      console.log(`[local] ${signal} again: quitting at once`);
      process.exit(130);
    }
    stoppingSince = now;
    console.log(
      `[local] ${signal}: stopping; no new webhooks, waiting up to ${STOP_GRACE_MS / 1000} s for deliveries in progress (Ctrl-C again to quit at once)`,
    );
    // Should closing hang, the process still ends.
    setTimeout(() => process.exit(1), STOP_GRACE_MS + 10_000).unref();
    stack
      .stop()
      .then((report) => {
        for (const line of describeStop(report, stack.storage)) console.log(`[local] ${line}`);
        process.exit(0);
      })
      .catch((error: unknown) => {
        console.error(`[local] stop failed: ${(error as Error)?.message ?? String(error)}`);
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

main().catch((error: unknown) => {
  console.error(`relay failed to start: ${explain(error, process.env.PORT)}`);
  process.exit(1);
});
