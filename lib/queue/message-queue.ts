/** A message for a queue. `key` identifies it in the report (the alert id, or a position). */
export interface OutboundMessage {
  readonly key: string;
  readonly body: string;
}

export interface SendReport {
  /** Keys of the messages that could not be queued, after retries. */
  readonly failedKeys: readonly string[];
}

/** The port ingest and deliver use to put messages on a queue (alerts, or dead letters). */
export interface MessageQueue {
  /**
   * Queues every message it can. It fails one way only: the keys of the messages it could not queue
   * are in `failedKeys`; it never rejects, so that a caller never has to tell "some failed" from "it threw".
   */
  sendAll(messages: readonly OutboundMessage[]): Promise<SendReport>;
}

/**
 * SQS refuses a visibility timeout that ends more than 12 hours after the receive that returned
 * the handle; ChangeMessageVisibility does not restart the 12 hours.
 */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/** Delays the next delivery attempt of a received message (SQS: its visibility timeout). */
export interface RetryScheduler {
  retryAfter(receiptHandle: string, seconds: number): Promise<void>;
}

export interface QueueDepths {
  /** Waiting, in flight or delayed in the alerts queue. */
  readonly pending: number;
  /** In the dead-letter queue: waiting, or being read right now. */
  readonly deadLetter: number;
}

export interface QueueDepthReader {
  depths(): Promise<QueueDepths>;
}

/** What a look at every dead letter found: the oldest one's first enqueue time, and how many were seen. */
export interface DeadLetterScan {
  /** Epoch ms of the oldest SentTimestamp seen; absent when the queue held none. */
  readonly oldestSentAtMs?: number;
  readonly seen: number;
  /** True when the look stopped at its limit: an older letter may be among those not seen. */
  readonly capped: boolean;
}

/** Reads the dead-letter queue's messages' ages without leaving any hidden (the dead-letter watch). */
export interface DeadLetterScanner {
  scan(): Promise<DeadLetterScan>;
}
