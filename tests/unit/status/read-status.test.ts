import type { AlertRecord } from '../../../lib/ledger/ledger';
import type { StatusDeps } from '../../../lib/status/read-status';
import { ACTIVE_WINDOW_MS, CHART_DAYS, chartDays, readStatus, summarizeStatus } from '../../../lib/status/read-status';
import { CapturingLogger, FakeLedgerReader, FakeQueueDepthReader } from '../../helpers/fakes';

const NOW = new Date('2023-11-14T22:13:20.000Z');

const setup = () => {
  const ledger = new FakeLedgerReader();
  const queues = new FakeQueueDepthReader({ pending: 4, deadLetter: 1 });
  const deps: StatusDeps = { ledger, queues, now: () => NOW };
  return { deps, ledger, queues };
};

describe('readStatus', () => {
  it('is 30 days', () => {
    expect(ACTIVE_WINDOW_MS).toBe(2_592_000_000);
  });

  it.each<[string, Date | null, boolean]>([
    ['a delivery just now', NOW, true],
    ['a delivery 29 days ago', new Date(NOW.getTime() - 29 * 86_400_000), true],
    ['a delivery exactly 30 days ago', new Date(NOW.getTime() - ACTIVE_WINDOW_MS), true],
    ['a delivery 30 days and 1 ms ago', new Date(NOW.getTime() - ACTIVE_WINDOW_MS - 1), false],
    ['a delivery a year ago (TTL not yet applied)', new Date(NOW.getTime() - 365 * 86_400_000), false],
    ['no delivery ever', null, false],
  ])('active with %s: %p', async (_name, lastDeliveredAt, active) => {
    const { deps, ledger } = setup();
    ledger.summary = { lastDeliveredAt, deliveredSince: 0, perDay: {} };
    const status = await readStatus(deps);
    expect(status.active).toBe(active);
    expect(status.lastIncidentAt).toBe(lastDeliveredAt === null ? null : lastDeliveredAt.toISOString());
  });

  it('logs one line with what it answered', async () => {
    const { deps, ledger } = setup();
    const log = new CapturingLogger();
    ledger.summary = { lastDeliveredAt: NOW, deliveredSince: 3, perDay: {} };
    await readStatus({ ...deps, log });
    expect(log.entries).toEqual([
      { level: 'info', message: 'status read', fields: { active: true, incidentsLast30Days: 3, pending: 4, deadLetter: 1 } },
    ]);
  });

  it('passes the counts and queue depths through, and stamps checkedAt with now', async () => {
    const { deps, ledger } = setup();
    ledger.summary = { lastDeliveredAt: new Date('2023-11-13T08:00:00.000Z'), deliveredSince: 17, perDay: {} };
    const status = await readStatus(deps);
    expect(status).toEqual(
      expect.objectContaining({
        source: 'threatstack',
        active: true,
        lastIncidentAt: '2023-11-13T08:00:00.000Z',
        incidentsLast30Days: 17,
        checkedAt: '2023-11-14T22:13:20.000Z',
        queue: { pending: 4, deadLetter: 1 },
      }),
    );
  });

  it.each<[string, AlertRecord | undefined, Record<string, unknown>, string]>([
    ['no record yet', undefined, { state: 'not-recorded' }, 'not tried yet (queued, or unknown)'],
    [
      'delivered',
      { state: 'delivered', deliveredAt: NOW },
      { state: 'delivered', deliveredAt: NOW.toISOString() },
      `delivered at ${NOW.toISOString()}`,
    ],
    [
      'failing',
      { state: 'failed', failingSince: NOW, lastFailure: 'Squadcast answered 503' },
      { state: 'failed', failingSince: NOW.toISOString(), lastFailure: 'Squadcast answered 503' },
      `failing since ${NOW.toISOString()}: Squadcast answered 503; retried`,
    ],
    [
      'dead-lettered',
      { state: 'dead-lettered', lastFailure: 'Squadcast answered 401' },
      { state: 'dead-lettered', lastFailure: 'Squadcast answered 401' },
      'dead-lettered: Squadcast answered 401',
    ],
    ['being sent', { state: 'in-flight' }, { state: 'in-flight' }, 'being sent'],
  ])('asked about one alert (%s), answers its record too', async (_name, record, alert, said) => {
    const { deps, ledger } = setup();
    if (record !== undefined) ledger.records.set('relay-test-1', record);
    const status = await readStatus({ ...deps, squadcastMaxPerMinute: 120 }, { alertId: 'relay-test-1' });
    expect(ledger.lookedUp).toEqual(['relay-test-1']);
    expect(status.alert).toEqual({ id: 'relay-test-1', ...alert });
    expect(status.squadcastMaxPerMinute).toBe(120);
    expect(status.summary).toContain(`alert "relay-test-1" ${said}`);
  });

  it('looks nothing up when not asked about an alert', async () => {
    const { deps, ledger } = setup();
    expect(await readStatus(deps)).not.toHaveProperty('alert');
    expect(ledger.lookedUp).toEqual([]);
  });

  it('asks for the deliveries of exactly the last 30 days', async () => {
    const { deps, ledger } = setup();
    await readStatus(deps);
    expect(ledger.summarizedSince).toEqual([new Date('2023-10-15T22:13:20.000Z')]);
  });

  it('counts per UTC day over the chart, oldest first, with empty days as 0', async () => {
    const { deps, ledger } = setup();
    // 2023-10-15 (after `since`, 22:13) is in the 30-day count but before the chart's first day.
    ledger.summary = {
      lastDeliveredAt: NOW,
      deliveredSince: 107,
      perDay: { '2023-10-16': 2, '2023-11-14': 5, '2023-11-01': 1, '2023-10-15': 99 },
    };
    const status = await readStatus(deps);
    expect(status.incidentsLast30Days).toBe(107);
    expect(status.incidentsPerDay).toHaveLength(CHART_DAYS);
    expect(status.incidentsPerDay[0]).toEqual({ date: '2023-10-16', count: 2 });
    expect(status.incidentsPerDay[CHART_DAYS - 1]).toEqual({ date: '2023-11-14', count: 5 });
    expect(status.incidentsPerDay.find((d) => d.date === '2023-11-01')).toEqual({ date: '2023-11-01', count: 1 });
    expect(status.incidentsPerDay.reduce((sum, d) => sum + d.count, 0)).toBe(8);
  });

  it('has exactly the documented keys', async () => {
    const status = await readStatus(setup().deps);
    expect(Object.keys(status).sort()).toEqual([
      'active',
      'checkedAt',
      'incidentsLast30Days',
      'incidentsPerDay',
      'lastIncidentAt',
      'queue',
      'source',
      'summary',
    ]);
    expect(Object.keys(status.queue).sort()).toEqual(['deadLetter', 'pending']);
  });

  it('lets a failed read reject', async () => {
    const { deps, ledger } = setup();
    ledger.error = new Error('ResourceNotFoundException');
    await expect(readStatus(deps)).rejects.toThrow('ResourceNotFoundException');
  });
});

describe('chartDays', () => {
  it('lists the 30 UTC dates ending today, oldest first', () => {
    const days = chartDays(NOW);
    expect(days).toHaveLength(30);
    expect(days[0]).toBe('2023-10-16');
    expect(days[29]).toBe('2023-11-14');
    expect(new Set(days).size).toBe(30);
  });

  it('uses the UTC date, not the local one', () => {
    expect(chartDays(new Date('2023-03-01T00:30:00.000Z')).slice(-2)).toEqual(['2023-02-28', '2023-03-01']);
  });
});

describe('summarizeStatus', () => {
  it.each<[string, Parameters<typeof summarizeStatus>[0], string]>([
    [
      'active, one of each',
      {
        source: 'threatstack',
        active: true,
        lastIncidentAt: '2023-11-13T08:00:00.000Z',
        incidentsLast30Days: 1,
        incidentsPerDay: [],
        checkedAt: 'x',
        queue: { pending: 1, deadLetter: 1 },
      },
      'Receiving alerts (active in Squadcast); 1 incident in the last 30 days; last incident 2023-11-13T08:00:00.000Z; 1 alert waiting for delivery; 1 message in the dead-letter queue (see docs/operator-guide.md, "Dead-letter queue")',
    ],
    [
      'inactive, nothing',
      {
        source: 'threatstack',
        active: false,
        lastIncidentAt: null,
        incidentsLast30Days: 0,
        incidentsPerDay: [],
        checkedAt: 'x',
        queue: { pending: 0, deadLetter: 0 },
      },
      'Inactive (no incident in the last 30 days); 0 incidents in the last 30 days; last incident never; 0 alerts waiting for delivery; 0 messages in the dead-letter queue',
    ],
  ])('%s', (_name, status, summary) => {
    expect(summarizeStatus(status)).toBe(summary);
  });
});
