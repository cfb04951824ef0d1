import { startEmulators } from '../local/emulators';
import { startCountingProxy } from './counting-proxy';

/**
 * `tsx bench/aws-process.ts`: "AWS" for the benchmark, in its own process so that the code under
 * test does not share an event loop with it. The SQS and DynamoDB emulators, each behind a
 * counting proxy; prints the proxies' URLs as one JSON line. Everything listens on 127.0.0.1.
 */
const main = async (): Promise<void> => {
  // The benchmark's processes sign with fixed credentials, and reach the emulators through counting
  // proxies that keep their Host: the emulators check the credentials, not the Host.
  const emulators = await startEmulators({ credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, checkHost: false });
  const sqs = await startCountingProxy(emulators.sqsEndpoint);
  const dynamodb = await startCountingProxy(emulators.dynamodbEndpoint);
  process.stdout.write(`${JSON.stringify({ sqsEndpoint: sqs.url, dynamodbEndpoint: dynamodb.url })}\n`);
  const stop = (): void =>
    void Promise.all([sqs.close(), dynamodb.close()])
      .then(() => emulators.stop())
      .finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
};

main().catch((error: unknown) => {
  process.stderr.write(`bench AWS emulators failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
