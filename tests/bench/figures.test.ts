import type { PackagedFunction } from '../../bench/bundles';
import { endToEnd } from '../../bench/figures/end-to-end';
import type { Measured } from '../../bench/figures/figure';
import { memory } from '../../bench/figures/memory';
import { requestsPerAlert } from '../../bench/figures/requests-per-alert';
import { sqsRequests } from '../../bench/figures/sqs-requests';
import type { MemoryRow, MemoryShape } from '../../bench/measure-memory';
import type { Runs } from '../../bench/measurements';
import { FIGURES, parseBenchOptions, runsFor, selectFigures } from '../../bench/run';

/** Made-up runs in the shapes the workers report: enough for every figure to compute and print. */
const phase = { alerts: 300, sqsRequests: { SendMessageBatch: 30, ReceiveMessage: 30, DeleteMessageBatch: 30 } };
const memoryRow = (alerts: number, shape: MemoryShape, status: number, cpuMs: number): MemoryRow => ({
  alerts,
  shape,
  bodyBytes: alerts * (shape === 'tiny' ? 18 : 260),
  status,
  rssBeforeBytes: 60e6,
  peakRssBeforeBytes: 60e6,
  peakRssBytes: 60e6 + alerts * 260 * 25,
  handlerMs: cpuMs * 0.8,
  cpuMs,
  sampled: { heapUsedBytes: 20e6, heapTotalBytes: 30e6, externalBytes: 2e6 },
});

const RUNS: Runs = {
  ingest: {
    mode: 'requests-and-overhead',
    bySize: [1, 10, 100].map((alerts) => ({
      alerts,
      posts: 5,
      statuses: [200],
      accepted: 5 * alerts,
      sqsRequests: { SendMessageBatch: 5 * Math.ceil(alerts / 10) },
      sqsBilledRequests: { SendMessageBatch: 5 * Math.ceil(alerts / 10) },
      medianMs: 10,
    })),
    overhead: { handlerMs: [12, 11, 13], bareMs: [10, 10, 10], handlerSqsRequests: { SendMessageBatch: 10 }, bareSqsRequests: {} },
  },
  memory: {
    rows: [
      ...[100, 1000].map((alerts) => memoryRow(alerts, 'realistic', 200, alerts * 0.1)),
      memoryRow(5000, 'tiny', 200, 900),
      memoryRow(5001, 'tiny', 413, 40),
      memoryRow(5000, 'escaped-keys', 200, 1100),
    ],
    largestAccepted: 15_465,
    json: [
      { name: 'plain', bytes: 4e6, parseJsonMs: [20, 21], nativeMs: [20, 20], ratio: 1.02 },
      { name: 'escaped keys', bytes: 4e6, parseJsonMs: [200, 210], nativeMs: [20, 21], ratio: 10 },
    ],
  },
  deliver: {
    rounds: {
      oneRecordMs: [55, 56],
      tenRecordsMs: [85, 90],
      bareOneRecordMs: [52, 53],
      bareTenRecordsMs: [75, 80],
      fresh: { records: 100, squadcastPosts: 100, dynamodbRequests: { PutItem: 100, UpdateItem: 100 }, sqsRequests: {}, failedRecords: 0 },
      redelivered: { records: 10, squadcastPosts: 0, dynamodbRequests: { PutItem: 10, GetItem: 10 }, sqsRequests: {}, failedRecords: 0 },
    },
    firstBatch: { oneRecordMs: [60], tenRecordsMs: [2700], failed: 0 },
    ledger: { items: 110, p50ItemBytes: 420, maxItemBytes: 480, maxIndexEntryBytes: 70, indexedShare: 1 },
  },
  coldStart: [
    {
      name: 'ingest',
      zipBytes: 140_000,
      bundleBytes: 440_000,
      bareBytes: 300_000,
      allBytes: 380_000,
      clients: { atInit: ['sqs'], later: ['ssm'] },
      importGraph: [
        { module: '@aws-sdk/client-sqs', bytes: 120_000 },
        { module: 'lib/ingest', bytes: 20_000 },
      ],
      realMs: [120, 118],
      bareMs: [
        [90, 92],
        [105, 104],
      ],
    },
  ],
  endToEnd: {
    deliveredPerSecond: 200,
    acceptedPerSecond: 900,
    deliveryLimitPerSecond: 400,
    throughputCounts: {
      ...phase,
      sqsBilledRequests: phase.sqsRequests,
      nonEmptyReceives: 30,
      receivedMessages: 300,
      dynamodbRequests: { PutItem: 300, UpdateItem: 300 },
      squadcastPosts: 300,
    },
    offeredPerSecond: 100,
    latencyMs: { p50: 13, p99: 30, max: 41, samples: 1000 },
    latencyCounts: {
      ...phase,
      sqsBilledRequests: phase.sqsRequests,
      nonEmptyReceives: 30,
      receivedMessages: 300,
      dynamodbRequests: {},
      squadcastPosts: 300,
    },
  },
};

const fn = (name: string): PackagedFunction => ({
  name,
  entry: `handlers/${name}.ts`,
  zipBytes: 1,
  bundlePath: `/x/${name}.js`,
  bundleBytes: 1,
  memoryMb: 512,
  timeoutSeconds: 10,
  environment: {},
});

/** What a figure sees when only the runs it names were measured. */
const measuredFor = (needs: readonly (keyof Runs)[]): Measured => ({
  runs: Object.fromEntries(needs.map((run) => [run, RUNS[run]])),
  fn,
});

describe('npm run bench -- --only', () => {
  it('runs every figure, in report order, without --only', () => {
    expect(selectFigures([]).map((f) => `${f.number} ${f.name}`)).toEqual([
      '1 sqs-requests',
      '2 ingest-overhead',
      '3 delivery-parallelism',
      '4 requests-per-alert',
      '5 cold-start',
      '6 memory',
      '7 end-to-end',
      '8 cost',
    ]);
  });

  it.each<[string[], string[]]>([
    [['--only', 'memory'], ['memory']],
    [
      ['--only', 'memory,cold-start'],
      ['cold-start', 'memory'],
    ],
    [['--only=7'], ['end-to-end']],
    [
      ['--only', '1, cost'],
      ['sqs-requests', 'cost'],
    ],
  ])('%j selects %j', (argv, names) => {
    expect(selectFigures(argv).map((f) => f.name)).toEqual(names);
  });

  it.each([[['--only', 'speed']], [['--only']], [['--only', '']], [['--fast']], [['memory']], [['--only', 'memory', 'extra']]])(
    'refuses %j with the usage and the names of the figures',
    (argv) => {
      expect(() => selectFigures(argv)).toThrow(
        /usage: npm run bench \[-- \[--only <figure>\[,<figure>\.\.\.\]\] \[--against <git ref> \[--passes <n>\]\]\]\nfigures: 1 sqs-requests, /,
      );
    },
  );

  it('names the unknown figure', () => {
    expect(() => selectFigures(['--only', 'memory,speed'])).toThrow(/^unknown figure speed\n/);
  });

  it.each<[string, string[]]>([
    ['sqs-requests', ['ingest']],
    ['ingest-overhead', ['ingest']],
    ['delivery-parallelism', ['deliver']],
    ['requests-per-alert', ['deliver', 'endToEnd']],
    ['cold-start', ['coldStart']],
    ['memory', ['memory']],
    ['end-to-end', ['endToEnd']],
    ['cost', ['ingest', 'deliver', 'endToEnd']],
  ])('%s runs only %j', (name, runs) => {
    expect([...runsFor(selectFigures(['--only', name]))].sort()).toEqual([...runs].sort());
  });
});

describe('each figure alone', () => {
  it.each(FIGURES.map((figure) => [figure.name, figure] as const))(
    '%s computes and prints from the runs it names, and nothing else',
    (_name, figure) => {
      const measured = measuredFor(figure.needs);
      const lines = figure.report(figure.compute(measured), measured);
      expect(lines[0]).toMatch(new RegExp(`^${figure.number}\\. `));
      expect(lines.join('\n')).not.toMatch(/NaN|undefined/);
    },
  );

  it('a figure missing a run it needs says which', () => {
    expect(() => sqsRequests.compute(measuredFor([]))).toThrow('bench: the ingest run was not measured');
  });

  it('figure 1 divides SendMessageBatch calls by accepted alerts and compares with ⌈n/10⌉/n', () => {
    expect(
      sqsRequests.compute(measuredFor(['ingest'])).map(({ alerts, perAlert, limit, ratio }) => ({ alerts, perAlert, limit, ratio })),
    ).toEqual([
      { alerts: 1, perAlert: 1, limit: 1, ratio: 1 },
      { alerts: 10, perAlert: 0.1, limit: 0.1, ratio: 1 },
      { alerts: 100, perAlert: 0.1, limit: 0.1, ratio: 1 },
    ]);
  });

  it('figure 6 sets the worst accepted batch against half the timeout, at the CPU share of the configured memory', () => {
    const measured = measuredFor(['memory']);
    const lines = memory.report(memory.compute(measured), measured);
    // 900 ms of CPU at 512 / 1769 of a vCPU: 3110 ms, within 5000 ms.
    expect(lines).toContain(
      '   worst case, tiny: 5000 alerts (87.9 KiB) answered 200 in 720 ms, 900 ms of CPU; at 512 MB Lambda gives 0.29 vCPU: ' +
        'about 3110 ms, budget 5000 ms (half the timeout): within',
    );
    expect(lines).toContain('     one more (5001): answered 413 in 32 ms');
    expect(lines.join('\n')).toContain('worst case, escaped-keys: 5000 alerts');
    const slow: Measured = { ...measured, runs: { memory: { ...RUNS.memory, rows: [memoryRow(5000, 'tiny', 200, 1500)] } } };
    expect(memory.report(memory.compute(slow), slow).join('\n')).toContain(
      'about 5183 ms, budget 5000 ms (half the timeout): OVER: lower MAX_ALERTS_PER_REQUEST or raise the memory',
    );
  });

  it("figure 7 explains the gap with figure 3's bare batch only when deliver was measured too", () => {
    const alone = measuredFor(['endToEnd']);
    const withDeliver = measuredFor(['endToEnd', 'deliver']);
    const gap = /bare 10-record batch of figure 3 takes 78 ms, not 50\)$/;
    expect(endToEnd.report(endToEnd.compute(alone), alone).some((line) => gap.test(line))).toBe(false);
    expect(endToEnd.report(endToEnd.compute(withDeliver), withDeliver).some((line) => gap.test(line))).toBe(true);
  });
});

describe('npm run bench -- --against', () => {
  it('takes a ref and a number of passes (2 by default), with --only or without', () => {
    expect(parseBenchOptions(['--against', 'main~3'])).toMatchObject({ against: 'main~3', passes: 2 });
    expect(parseBenchOptions(['--against=15c0098', '--passes', '3', '--only', 'cold-start'])).toMatchObject({
      against: '15c0098',
      passes: 3,
      figures: [expect.objectContaining({ name: 'cold-start' })],
    });
  });

  it.each([
    [['--passes', '2']],
    [['--against', 'x', '--passes', '0']],
    [['--against', 'x', '--passes', 'many']],
    [['--against']],
    [['--against', 'a', '--against', 'b']],
  ])('refuses %j with the usage', (argv) => {
    expect(() => parseBenchOptions(argv)).toThrow(/usage: npm run bench/);
  });
});

describe('figure 4: write units from the ledger items as DynamoDB sizes them', () => {
  const withLedger = (maxItemBytes: number, maxIndexEntryBytes: number): Measured => {
    const measured = measuredFor(['deliver', 'endToEnd']);
    const deliver = RUNS.deliver;
    const fresh = { ...deliver.rounds.fresh, dynamodbRequests: { UpdateItem: 200 } };
    return {
      ...measured,
      runs: {
        ...measured.runs,
        deliver: { ...deliver, rounds: { ...deliver.rounds, fresh }, ledger: { ...deliver.ledger, maxItemBytes, maxIndexEntryBytes } },
      },
    };
  };

  it('claim + complete + one index entry: 3 under 1 KB', () => {
    expect(requestsPerAlert.compute(withLedger(900, 80)).dynamodbWriteUnitsPerAlert).toBe(3);
  });

  it('an item over 1 KB costs 2 a write', () => {
    expect(requestsPerAlert.compute(withLedger(1100, 80)).dynamodbWriteUnitsPerAlert).toBe(5);
  });

  it('prints the sizes it measured', () => {
    const measured = withLedger(900, 80);
    expect(requestsPerAlert.report(requestsPerAlert.compute(measured), measured).join('\n')).toContain(
      'ledger items as DynamoDB sizes them (110 items): p50 420 B, largest 900 B; largest index entry 80 B; write units 3.00, target ≤ 3: meets target',
    );
  });
});

describe('headlines', () => {
  it.each(FIGURES.map((figure) => [figure.name, figure] as const))('%s names numbers that can be compared', (_name, figure) => {
    const headlines = figure.headlines(figure.compute(measuredFor(figure.needs)));
    expect(headlines.length).toBeGreaterThan(0);
    for (const headline of headlines) expect(Number.isFinite(headline.value)).toBe(true);
    expect(new Set(headlines.map((h) => h.label)).size).toBe(headlines.length);
  });
});
