import { BASE_LAMBDA_ENV, capturedEachTest, commandsOf, loadHandler } from '../helpers/load-handler';

type WatchModule = typeof import('../../handlers/dead-letter-watch');

const load = (env: Record<string, string | undefined> = BASE_LAMBDA_ENV) =>
  loadHandler(env, () => require('../../handlers/dead-letter-watch') as WatchModule);

const DAY_MS = 86_400_000;

const output = capturedEachTest();

describe('dead-letter watch handler', () => {
  it('reads the dead-letter queue named in the environment, prints the oldest letter age as a metric, and releases what it read', async () => {
    const loaded = load();
    const sentAt = Date.now() - 11 * DAY_MS;
    let received = false;
    loaded.sqsSend.mockImplementation(async (command) => {
      const name = (command as { constructor: { name: string } }).constructor.name;
      if (name === 'ReceiveMessageCommand') {
        if (received) return { Messages: [] };
        received = true;
        return { Messages: [{ ReceiptHandle: 'h-1', Attributes: { SentTimestamp: String(sentAt) } }] };
      }
      return { Successful: [{ Id: '0' }] };
    });
    const answer = await loaded.module.handler({});
    expect(answer).toMatchObject({ deadLetters: 1, oldestExpiresInHours: expect.any(Number), capped: false });
    expect(answer.oldestAgeSeconds).toBeGreaterThanOrEqual(11 * 86_400);
    expect(commandsOf(loaded.sqsSend).map((c) => [c.name, c.input.QueueUrl])).toEqual([
      ['ReceiveMessageCommand', BASE_LAMBDA_ENV.DEAD_LETTER_QUEUE_URL],
      ['ReceiveMessageCommand', BASE_LAMBDA_ENV.DEAD_LETTER_QUEUE_URL],
      ['ChangeMessageVisibilityBatchCommand', BASE_LAMBDA_ENV.DEAD_LETTER_QUEUE_URL],
    ]);
    expect(output.text()).toContain('"OldestDeadLetterAge"');
  });

  it('fails the cold start without DEAD_LETTER_QUEUE_URL, naming it', () => {
    expect(() => load({ ...BASE_LAMBDA_ENV, DEAD_LETTER_QUEUE_URL: undefined })).toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining('DEAD_LETTER_QUEUE_URL') }),
    );
  });
});
