import type { GetQueueAttributesCommandInput } from '@aws-sdk/client-sqs';
import { BASE_LAMBDA_ENV, capturedEachTest, commandsOf, loadHandler } from '../helpers/load-handler';

type StatusModule = typeof import('../../handlers/status');

const ENV = { ...BASE_LAMBDA_ENV };
const load = (env: Record<string, string | undefined> = ENV) => loadHandler(env, () => require('../../handlers/status') as StatusModule);

const DAY_MS = 86_400_000;
const STATUS_KEYS = ['active', 'checkedAt', 'incidentsLast30Days', 'incidentsPerDay', 'lastIncidentAt', 'queue', 'source', 'summary'];

// Status logs one line per read (tests/handlers/lambda-context.test.ts checks it): kept off the test output.
const _output = capturedEachTest();

describe('status handler', () => {
  const loaded = load();
  const { handler } = loaded.module;

  /** The latest delivery, and the delivery times in the 30-day window, split into pages. */
  const answer = (lastDeliveredAt: string | undefined, pages: ReadonlyArray<readonly string[]> = []) => {
    let page = 0;
    loaded.dynamodbSend.mockImplementation(async (command) => {
      const input = (command as { input: Record<string, unknown> }).input;
      if (input.Limit === 1) return { Items: lastDeliveredAt === undefined ? [] : [{ deliveredAt: lastDeliveredAt }] };
      const current = page++;
      return {
        Items: (pages[current] ?? []).map((at) => ({ deliveredAt: at })),
        ...(current < pages.length - 1 ? { LastEvaluatedKey: { pk: `page-${current}` } } : {}),
      };
    });
    loaded.sqsSend.mockImplementation(async (command) => {
      const input = (command as { input: GetQueueAttributesCommandInput }).input;
      return input.QueueUrl === ENV.ALERTS_QUEUE_URL
        ? {
            Attributes: {
              ApproximateNumberOfMessages: '2',
              ApproximateNumberOfMessagesNotVisible: '1',
              ApproximateNumberOfMessagesDelayed: '3',
            },
          }
        : { Attributes: { ApproximateNumberOfMessages: '4' } };
    });
  };

  beforeEach(() => {
    loaded.dynamodbSend.mockClear();
    loaded.sqsSend.mockClear();
  });

  it('returns the status object with exactly its keys', async () => {
    const last = new Date(Date.now() - 2 * DAY_MS).toISOString();
    const earlier = new Date(Date.now() - 5 * DAY_MS).toISOString();
    answer(last, [Array.from({ length: 120 }, () => earlier), [last, earlier, earlier]]);
    const before = Date.now();
    const status = await handler({});
    // The keys beside the reader's own (tests/unit/status/read-status.test.ts): the ceiling the runtime reads.
    expect(Object.keys(status).sort()).toEqual([...STATUS_KEYS, 'squadcastMaxPerMinute'].sort());
    expect(status).toEqual({
      source: 'threatstack',
      active: true,
      lastIncidentAt: last,
      incidentsLast30Days: 123,
      incidentsPerDay: expect.any(Array),
      checkedAt: expect.any(String),
      queue: { pending: 6, deadLetter: 4 },
      squadcastMaxPerMinute: 150,
      summary: expect.stringContaining('Receiving alerts'),
    });
    expect(Date.parse(status.checkedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(status.checkedAt)).toBeLessThanOrEqual(Date.now());
    expect(status.incidentsPerDay).toHaveLength(30);
    expect(status.incidentsPerDay.find((d) => d.date === last.slice(0, 10))?.count).toBe(1);
  });

  it('reads the table and both queues named in the environment', async () => {
    answer(undefined);
    await handler({});
    expect(
      new Set(commandsOf(loaded.dynamodbSend).map((c) => `${c.name} ${String(c.input.TableName)} ${String(c.input.IndexName)}`)),
    ).toEqual(new Set([`QueryCommand ${ENV.LEDGER_TABLE_NAME} delivered-at`]));
    expect(commandsOf(loaded.sqsSend).map((c) => [c.name, c.input.QueueUrl])).toEqual([
      ['GetQueueAttributesCommand', ENV.ALERTS_QUEUE_URL],
      ['GetQueueAttributesCommand', ENV.DEAD_LETTER_QUEUE_URL],
    ]);
  });

  it('with {"alertId": ...}, reads that alert\'s record by its key as well', async () => {
    answer(undefined);
    const query = loaded.dynamodbSend.getMockImplementation();
    loaded.dynamodbSend.mockImplementation(async (command, ...rest) => {
      const input = (command as { input: Record<string, unknown> }).input;
      if ('Key' in input) return { Item: { state: 'dead-lettered', lastFailure: 'Squadcast answered 401' } };
      return query?.(command, ...rest);
    });
    const status = await handler({ alertId: 'relay-test-1' });
    expect(status.alert).toEqual({ id: 'relay-test-1', state: 'dead-lettered', lastFailure: 'Squadcast answered 401' });
    expect(
      commandsOf(loaded.dynamodbSend)
        .filter((c) => c.name === 'GetCommand')
        .map((c) => c.input.Key),
    ).toEqual([{ pk: 'alert#relay-test-1' }]);
  });

  it.each<[string, unknown]>([
    ['an id that is not a string', { alertId: 42 }],
    ['an empty id', { alertId: '' }],
    ['an event that is not an object', 'relay-test-1'],
  ])('refuses %s with what it expects, never the value', async (_name, event) => {
    answer(undefined);
    const refused = handler(event);
    await expect(refused).rejects.toThrow('invalid request: ');
    await expect(refused).rejects.toThrow('(send {} for the status, or {"alertId": "<id>"})');
    await expect(refused).rejects.not.toThrow('relay-test-1');
  });

  it('is inactive with no incident in 30 days', async () => {
    answer(new Date(Date.now() - 31 * DAY_MS).toISOString());
    expect(await handler({})).toEqual(expect.objectContaining({ active: false, incidentsLast30Days: 0 }));
  });

  it('is inactive, with lastIncidentAt null, when nothing was ever delivered', async () => {
    answer(undefined, []);
    expect(await handler({})).toEqual(expect.objectContaining({ active: false, lastIncidentAt: null }));
  });

  it('lets a failed read reject', async () => {
    loaded.dynamodbSend.mockImplementation(async () =>
      Promise.reject(Object.assign(new Error('no table'), { name: 'ResourceNotFoundException' })),
    );
    loaded.sqsSend.mockImplementation(async () => ({}));
    await expect(handler({})).rejects.toThrow('no table');
  });
});

describe('status handler configuration', () => {
  it('fails the cold start without LEDGER_TABLE_NAME, naming it', () => {
    expect(() => load({ ...ENV, LEDGER_TABLE_NAME: undefined })).toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining('LEDGER_TABLE_NAME') }),
    );
  });

  it('needs neither the token nor the Squadcast URL', () => {
    expect(() => load({ ...ENV, WEBHOOK_TOKEN: undefined, SQUADCAST_WEBHOOK_URL: undefined })).not.toThrow();
  });
});
