import { SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_RETENTION_SECONDS, watchDeadLetters } from '../../../lib/dead-letter-watch/watch-dead-letters';
import type { DeadLetterScan } from '../../../lib/queue/message-queue';
import { createSqsDeadLetterScanner, MAX_SCANNED_DEAD_LETTERS } from '../../../lib/queue/sqs-queue';
import { fakeAwsClient } from '../../helpers/aws';
import { CapturingLogger, gaugeRecorder } from '../../helpers/fakes';

/** lib/dead-letter-watch: the oldest dead letter's age from its SentTimestamp, whatever looked at it before. */
const NOW = new Date('2026-12-06T12:00:00.000Z');
const DAY = 86_400_000;

const watch = async (scan: DeadLetterScan) => {
  const { gauges, metrics } = gaugeRecorder();
  const log = new CapturingLogger();
  const result = await watchDeadLetters({ scanner: { scan: async () => scan }, metrics, log, now: () => NOW });
  return { result, gauges, log };
};

describe('watchDeadLetters', () => {
  it('publishes the oldest dead letter age, and how long SQS keeps it', async () => {
    const { result, gauges } = await watch({ oldestSentAtMs: NOW.getTime() - 11 * DAY, seen: 3, capped: false });
    expect(gauges).toEqual([['oldestDeadLetterAge', 11 * 86_400]]);
    expect(result).toEqual({ deadLetters: 3, oldestAgeSeconds: 950_400, oldestExpiresInHours: 72, capped: false });
    expect(DEAD_LETTER_RETENTION_SECONDS - 950_400).toBe(3 * 86_400);
  });

  it('publishes nothing for an empty queue (no data is no alarm)', async () => {
    const { result, gauges } = await watch({ seen: 0, capped: false });
    expect(gauges).toEqual([]);
    expect(result).toEqual({ deadLetters: 0, capped: false });
  });
});

describe('createSqsDeadLetterScanner', () => {
  /** Dead letters on a fake SQS, each with a SentTimestamp and a receive count that every receive raises. */
  const queueOf = (sentAt: number[], receivedBefore: number) => {
    const receives = sentAt.map(() => receivedBefore);
    let visible = sentAt.map((_, i) => i);
    const sqs = fakeAwsClient(SQSClient, (name, input) => {
      if (name === 'ReceiveMessageCommand') {
        const taken = visible.slice(0, Number(input.MaxNumberOfMessages));
        visible = visible.slice(taken.length);
        return {
          Messages: taken.map((i) => {
            receives[i] = (receives[i] ?? 0) + 1;
            return {
              ReceiptHandle: `h${i}`,
              Attributes: { SentTimestamp: String(sentAt[i]), ApproximateReceiveCount: String(receives[i]) },
            };
          }),
        };
      }
      if (name === 'ChangeMessageVisibilityBatchCommand') {
        const entries = input.Entries as Array<{ ReceiptHandle: string; VisibilityTimeout: number }>;
        for (const entry of entries) if (entry.VisibilityTimeout === 0) visible.push(Number(entry.ReceiptHandle.slice(1)));
        return { Successful: entries.map((_entry, i) => ({ Id: String(i) })) };
      }
      throw new Error(`unexpected ${name}`);
    });
    return { sqs, receives, visible: () => visible };
  };

  it('finds the oldest SentTimestamp however often the letters were looked at (five looks before), and leaves all visible', async () => {
    const sentAt = Array.from({ length: 25 }, (_, i) => NOW.getTime() - (i % 7) * DAY - 12 * DAY * Number(i === 17));
    const { sqs, receives, visible } = queueOf(sentAt, 5);
    const scan = await createSqsDeadLetterScanner(sqs.client, 'https://sqs/dlq').scan();
    expect(scan).toEqual({ oldestSentAtMs: Math.min(...sentAt), seen: 25, capped: false });
    expect(receives.every((n) => n === 6)).toBe(true);
    expect(visible().sort((a, b) => a - b)).toEqual(sentAt.map((_, i) => i));
    for (const input of sqs.inputsOf<{ VisibilityTimeout: number; WaitTimeSeconds: number; MessageSystemAttributeNames: string[] }>(
      'ReceiveMessageCommand',
    ))
      expect(input).toMatchObject({ VisibilityTimeout: 30, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['SentTimestamp'] });
  });

  it('stops at 1000 and says so', async () => {
    const { sqs } = queueOf(
      Array.from({ length: MAX_SCANNED_DEAD_LETTERS + 5 }, () => NOW.getTime()),
      0,
    );
    expect(await createSqsDeadLetterScanner(sqs.client, 'https://sqs/dlq').scan()).toMatchObject({
      seen: MAX_SCANNED_DEAD_LETTERS,
      capped: true,
    });
  });
});
