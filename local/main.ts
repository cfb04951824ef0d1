import { startLocalStack } from './stack';

/**
 * The embedded SQS emulator persists with node:sqlite (Node >= 22.5). `npm start` runs on the
 * Node the project pins (the `node` package, 24, as Lambda's nodejs24.x); `tsx local/main.ts`
 * under an older system Node would fail later and less clearly.
 */
const checkNodeVersion = (): void => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 5)) return;
  throw new Error(
    `Node ${process.version} is too old (the relay needs 22.5 or newer): run it with \`npm start\`, which uses the project's Node 24`,
  );
};

/** `npm start`: the relay on 127.0.0.1 with its embedded defaults. */
const main = async (): Promise<void> => {
  checkNodeVersion();
  const stack = await startLocalStack();
  console.log(
    [
      `Threat Stack → Squadcast relay, running locally on Node ${process.version} (the project's pinned Node; Lambda runs nodejs24.x)`,
      `  webhook (POST)   ${stack.webhookUrl}`,
      `  status  (GET)    ${stack.statusUrl}`,
      `  squadcast        ${stack.squadcastTarget === 'local inbox' ? `local inbox, listed at http://127.0.0.1:${stack.port}/local/incidents` : 'SQUADCAST_WEBHOOK_URL (not printed: it holds the key)'}`,
      `  allowed sources  ${stack.allowedSourceIps}`,
      `  SQS              ${stack.sqsEndpoint}${stack.embeddedEmulators ? ' (embedded)' : ''}`,
      `  DynamoDB         ${stack.dynamodbEndpoint}${stack.embeddedEmulators ? ' (embedded)' : ''}`,
      '  try: npm run send-sample      stop: Ctrl-C',
    ].join('\n'),
  );
  const stop = (): void => {
    void stack.stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

main().catch((error: unknown) => {
  console.error(`relay failed to start: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
});
