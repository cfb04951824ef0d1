import type { Logger } from '../common/logger';
import type { RelayMetrics } from '../common/metrics';
import type { DeadLetterScanner } from '../queue/message-queue';

/**
 * The dead-letter watch (scheduled every hour): the age of the oldest dead letter, measured from its
 * SentTimestamp, so that no number of looks at the queue hides it. SQS's own
 * ApproximateAgeOfOldestMessage leaves out a message received three times or more, so an operator's
 * `npm run dead-letters` or the console's "Poll for messages" could silence an alarm on it; and a
 * message SQS moved there keeps its first enqueue time, so its 14 days started before it arrived.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 */
export interface DeadLetterWatchDeps {
  readonly scanner: DeadLetterScanner;
  readonly metrics: RelayMetrics;
  readonly log: Logger;
  readonly now: () => Date;
}

/** SQS deletes a message this long after it was first queued (MessageRetentionPeriod, both queues). */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 86_400;

/** What the watch answers (a console invocation reads it). */
export interface DeadLetterWatchResult {
  readonly deadLetters: number;
  readonly oldestAgeSeconds?: number;
  /** Until SQS deletes the oldest one. */
  readonly oldestExpiresInHours?: number;
  /** True when the watch read only the first 1000: an older one may be among the others. */
  readonly capped: boolean;
}

export const watchDeadLetters = async (deps: DeadLetterWatchDeps): Promise<DeadLetterWatchResult> => {
  const scan = await deps.scanner.scan();
  if (scan.oldestSentAtMs === undefined) return { deadLetters: scan.seen, capped: scan.capped };
  const ageSeconds = Math.max(0, Math.round((deps.now().getTime() - scan.oldestSentAtMs) / 1000));
  deps.metrics.largest('oldestDeadLetterAge', ageSeconds);
  const expiresInHours = Math.floor((DEAD_LETTER_RETENTION_SECONDS - ageSeconds) / 3_600);
  deps.log.info('dead letters waiting', {
    deadLetters: scan.seen,
    oldestAgeSeconds: ageSeconds,
    oldestExpiresInHours: expiresInHours,
    capped: scan.capped,
  });
  return { deadLetters: scan.seen, oldestAgeSeconds: ageSeconds, oldestExpiresInHours: expiresInHours, capped: scan.capped };
};
