import { chunkMessages, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES } from '../../../lib/queue/chunk';
import type { OutboundMessage } from '../../../lib/queue/message-queue';
import { MAX_MESSAGE_BYTES, messageBytes } from '../../../lib/queue/messages';

const messages = (count: number, bytes = 10): OutboundMessage[] =>
  Array.from({ length: count }, (_, i) => ({ key: `k${i}`, body: 'x'.repeat(bytes) }));
const shape = (chunks: OutboundMessage[][]): number[] => chunks.map((chunk) => chunk.length);

describe('chunk limits', () => {
  it('are the SendMessageBatch limits', () => {
    expect(MAX_BATCH_ENTRIES).toBe(10);
    expect(MAX_BATCH_BYTES).toBe(262_144);
    expect(MAX_MESSAGE_BYTES).toBe(262_144);
  });
});

describe('messageBytes', () => {
  it('counts UTF-8 bytes, not characters', () => {
    expect(messageBytes({ key: 'k', body: 'abc' })).toBe(3);
    expect(messageBytes({ key: 'k', body: '€' })).toBe(3);
    expect(messageBytes({ key: 'k', body: '😀' })).toBe(4);
  });
});

describe('chunkMessages', () => {
  it.each<[string, number, number, number[]]>([
    ['nothing', 0, 10, []],
    ['one', 1, 10, [1]],
    ['exactly ten', 10, 10, [10]],
    ['eleven', 11, 10, [10, 1]],
    ['twenty-five', 25, 10, [10, 10, 5]],
    ['by bytes: 4 x 64 KiB fill one chunk', 4, 64 * 1024, [4]],
    ['by bytes: 5 x 64 KiB need two', 5, 64 * 1024, [4, 1]],
    ['by bytes: 3 x 100 KiB', 3, 100 * 1024, [2, 1]],
    ['by bytes and count: 12 x 30 KiB', 12, 30 * 1024, [8, 4]],
    ['one message over the limit stands alone', 1, MAX_BATCH_BYTES + 1, [1]],
  ])('%s', (_name, count, bytes, expected) => {
    expect(shape(chunkMessages(messages(count, bytes)))).toEqual(expected);
  });

  it('counts bytes, not characters', () => {
    // 3 x 30,000 '€' = 3 x 90,000 bytes: only two fit in 256 KiB, although 90,000 characters would.
    const euros = Array.from({ length: 3 }, (_, i) => ({ key: `e${i}`, body: '€'.repeat(30_000) }));
    expect(shape(chunkMessages(euros))).toEqual([2, 1]);
  });

  it('keeps every message once, in order', () => {
    const input = messages(23, 20_000);
    const chunks = chunkMessages(input);
    expect(chunks.flat()).toEqual(input);
  });

  it('never exceeds 10 entries or 256 KiB in a chunk of messages that each fit', () => {
    const sizes = [1, 200_000, 50_000, 12_144, 1, 262_144, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 100_000, 100_000, 62_144];
    const chunks = chunkMessages(sizes.map((bytes, i) => ({ key: String(i), body: 'y'.repeat(bytes) })));
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(MAX_BATCH_ENTRIES);
      expect(chunk.reduce((sum, m) => sum + messageBytes(m), 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
    expect(shape(chunks)).toEqual([3, 2, 1, 10, 3, 1]);
  });
});
