import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';

/**
 * The least an ingest can do, for figure 2: read the body, wrap each alert as the queue expects
 * it, and send the messages with parallel SendMessageBatch calls of ten. No authentication, no
 * validation, no logs. Bundled with the functions' esbuild options, so both run the same SDK build.
 */
const sqs = new SQSClient({});
const queueUrl = process.env.ALERTS_QUEUE_URL ?? '';

export const handler = async (body: string): Promise<void> => {
  // The benchmark's own alerts: no decoding needed.
  const { alerts } = JSON.parse(body) as { alerts: unknown[] };
  const receivedAt = new Date().toISOString();
  const messages = alerts.map((alert) => JSON.stringify({ alert, receivedAt }));
  const chunks: string[][] = [];
  for (let i = 0; i < messages.length; i += 10) chunks.push(messages.slice(i, i + 10));
  await Promise.all(
    chunks.map((chunk) =>
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, index) => ({ Id: String(index), MessageBody: message })),
        }),
      ),
    ),
  );
};
