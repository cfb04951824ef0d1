import { startLocalStack } from './stack';

/** `npm start`: the relay on 127.0.0.1 with its embedded defaults. */
const main = async (): Promise<void> => {
  const stack = await startLocalStack();
  console.log(
    [
      'Threat Stack → Squadcast relay, running locally',
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
