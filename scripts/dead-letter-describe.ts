import type { Message } from '@aws-sdk/client-sqs';
import { readAlert } from '../lib/alert/read-alert';
import { escapedId, plainText, truncate } from '../lib/common/text';
import type { Failure } from '../lib/queue/messages';
import { readQueuedMessage } from '../lib/queue/messages';

/** A dead letter described for a person (and `--json`), with deliver's own reading of its body (lib/queue/messages.ts). */

/** One dead letter, for a person: which alert, why, with the field path, and its history. Never the raw payload. */
export interface DeadLetterEntry {
  readonly messageId: string;
  readonly kind: 'alert' | 'not an alert' | 'unreadable';
  readonly alertId?: string;
  readonly title?: string;
  readonly severity?: number | 'unknown';
  /** Where it failed and why: `deliver: Squadcast answered 401`, `ingest: invalid alert`. */
  readonly reason: string;
  /** Field paths and expectations, never values: `alerts[1]: expected object`. */
  readonly problems: readonly string[];
  /** When the relay first accepted it (ingest's time). */
  readonly firstAcceptedAt?: string;
  readonly deadLetteredAt?: string;
  /** How many times deliver had received it when it gave up. */
  readonly attempts?: number;
  /** Failures of earlier trips through the dead-letter queue, and redrives that came straight back. */
  readonly earlierFailures: readonly string[];
  /** False when a redrive cannot deliver it as it is (it would come straight back). */
  readonly redeliverable: boolean;
  /**
   * What the dead letter holds (the alert, the element that was not one, the text that was not JSON),
   * as JSON, control characters removed, cut to DEAD_LETTER_CONTENT_CHARS: shown, and kept in a
   * discard's record, so that nothing is gone unread.
   */
  readonly content: string;
}

/** How much of a dead letter's content a listing (`--json`) and a discard's record keep. */
export const DEAD_LETTER_CONTENT_CHARS = 2_000;

const contentOf = (value: unknown, asText = false): string =>
  truncate(plainText(asText && typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))), DEAD_LETTER_CONTENT_CHARS);

const failureText = (failure: Failure): string => `${failure.stage}: ${failure.reason}`;

/** Why the queue itself moved an alert (after maxReceiveCount receives): the last failure the ledger kept, if any. */
const movedByTheQueue = (maxReceiveCount: number | undefined, lastFailure: string | undefined): string => {
  const moved = `moved here by the queue after ${maxReceiveCount ?? 'maxReceiveCount'} receives`;
  return lastFailure === undefined
    ? `no failure recorded: ${moved} (deliver failed on it before it could send: a crash, a timeout, or a dependency failing every time)`
    : `${moved}; its last failed send: ${lastFailure}`;
};

/**
 * One dead letter, read. `lastFailure` is what the ledger kept of the alert's last failed send: it
 * names the reason when the queue moved the alert itself, with no failure of its own in the message.
 */
export const describeDeadLetter = (message: Message, maxReceiveCount?: number, lastFailure?: string): DeadLetterEntry => {
  const messageId = message.MessageId ?? '';
  const read = readQueuedMessage(message.Body ?? '');
  if (read.kind === 'alert') {
    const { failure, earlierFailures = [] } = read.queued;
    const alert = readAlert(read.queued.alert, { id: read.queued.alertId, receivedAt: new Date() });
    return {
      messageId,
      kind: 'alert',
      alertId: alert.id,
      ...(alert.title === undefined ? {} : { title: alert.title }),
      severity: alert.severity ?? 'unknown',
      reason: failure === undefined ? movedByTheQueue(maxReceiveCount, lastFailure) : failureText(failure),
      problems: failure?.problems ?? [],
      ...(read.queued.receivedAt === undefined ? {} : { firstAcceptedAt: read.queued.receivedAt }),
      ...(failure === undefined ? {} : { deadLetteredAt: failure.at }),
      ...(failure?.attempts === undefined ? {} : { attempts: failure.attempts }),
      earlierFailures: earlierFailures.map((f) => `${failureText(f)} at ${f.at}`),
      redeliverable: true,
      content: contentOf(read.queued.alert),
    };
  }
  if (read.kind === 'not an alert') {
    const { failure, redrives } = read.letter;
    return {
      messageId,
      kind: 'not an alert',
      reason: failureText(failure),
      problems: failure.problems ?? [],
      firstAcceptedAt: failure.at,
      deadLetteredAt: failure.at,
      earlierFailures: redrives === undefined ? [] : [`redriven ${redrives} time${redrives === 1 ? '' : 's'}, back each time`],
      redeliverable: false,
      content: contentOf(read.letter.raw),
    };
  }
  const notJson = read.problems.includes('(root): expected JSON');
  return {
    messageId,
    kind: 'unreadable',
    reason: notJson ? 'not JSON' : 'unknown message shape',
    problems: [],
    earlierFailures: [],
    redeliverable: false,
    content: contentOf(message.Body ?? '', true),
  };
};

/** One line for a person: `alert abc (severity 1, "Host: …"): deliver: Squadcast answered 401 …`. */
export const describeLine = (entry: DeadLetterEntry): string => {
  // Alert text goes to a terminal: control characters (colours, cursor moves, a title change) are removed.
  const what =
    entry.kind === 'alert'
      ? `alert ${escapedId(entry.alertId ?? '')} (severity ${entry.severity}${entry.title === undefined ? '' : `, "${truncate(plainText(entry.title), 60)}"`})`
      : entry.kind === 'not an alert'
        ? 'not an alert'
        : 'unreadable';
  const problems = entry.problems.length === 0 ? '' : ` [${entry.problems.slice(0, 3).join('; ')}]`;
  const back = entry.redeliverable ? '' : ': a redrive brings it straight back';
  const at = entry.deadLetteredAt === undefined ? '' : ` at ${entry.deadLetteredAt}`;
  return `${what}: ${entry.reason}${at}${problems}${back}`;
};
