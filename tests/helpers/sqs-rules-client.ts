import type { SQSClient } from '@aws-sdk/client-sqs';
import { MAX_MESSAGE_BYTES } from '../../lib/queue/messages';

/**
 * An in-memory stand-in for SQS's SendMessageBatch that applies SQS's rules, so that the real
 * adapter (`createSqsQueue`) runs against them at property-test speed:
 * - at most 10 entries, distinct ids, the batch at most 256 KiB (the relay's own limit; SQS now allows 1 MiB);
 * - each body at most 256 KiB (same), and only the characters SQS accepts:
 *   #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF;
 *   an entry that breaks a rule fails with SenderFault, as SQS reports it.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export interface SqsRulesClient {
  readonly client: SQSClient;
  /** Bodies accepted, per queue URL. */
  readonly bodies: Map<string, string[]>;
  /** Entries refused, with SQS's error code. */
  readonly refused: Array<{ readonly queueUrl: string; readonly code: string }>;
  /** When true, every call fails as if SQS were down. */
  down: boolean;
}

interface Entry {
  readonly Id: string;
  readonly MessageBody: string;
}

export const sqsRulesClient = (): SqsRulesClient => {
  const bodies = new Map<string, string[]>();
  const refused: Array<{ queueUrl: string; code: string }> = [];
  const state = { down: false };
  const send = async (command: { constructor: { name: string }; input: { QueueUrl: string; Entries: Entry[] } }): Promise<unknown> => {
    if (state.down) throw Object.assign(new Error('ServiceUnavailable'), { name: 'ServiceUnavailable', $fault: 'server' });
    if (command.constructor.name !== 'SendMessageBatchCommand') throw new Error(`unexpected ${command.constructor.name}`);
    const { QueueUrl, Entries } = command.input;
    if (Entries.length === 0 || Entries.length > 10) throw Object.assign(new Error('batch size'), { name: 'TooManyEntriesInBatchRequest' });
    if (new Set(Entries.map((e) => e.Id)).size !== Entries.length)
      throw Object.assign(new Error('ids'), { name: 'BatchEntryIdsNotDistinct' });
    const total = Entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody, 'utf8'), 0);
    if (total > MAX_MESSAGE_BYTES) throw Object.assign(new Error('too long'), { name: 'BatchRequestTooLong' });
    const Successful: Array<{ Id: string }> = [];
    const Failed: Array<{ Id: string; SenderFault: boolean; Code: string }> = [];
    for (const entry of Entries) {
      const code = INVALID_CHARACTER.test(entry.MessageBody)
        ? 'InvalidMessageContents'
        : Buffer.byteLength(entry.MessageBody, 'utf8') > MAX_MESSAGE_BYTES
          ? 'InvalidParameterValue'
          : undefined;
      if (code !== undefined) {
        Failed.push({ Id: entry.Id, SenderFault: true, Code: code });
        refused.push({ queueUrl: QueueUrl, code });
        continue;
      }
      bodies.set(QueueUrl, [...(bodies.get(QueueUrl) ?? []), entry.MessageBody]);
      Successful.push({ Id: entry.Id });
    }
    return { Successful, Failed };
  };
  return {
    client: { send } as unknown as SQSClient,
    bodies,
    refused,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
  };
};
