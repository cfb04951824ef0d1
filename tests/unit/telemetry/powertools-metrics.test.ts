import { METRIC_NAMES } from '../../../lib/common/metrics';
import { createJsonLogger } from '../../../lib/telemetry/powertools-logger';
import { createRelayMetrics } from '../../../lib/telemetry/powertools-metrics';

/** Powertools Metrics prints EMF with its own console on process.stdout: capture that. */
const captureStdout = () => {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((line) => line !== ''),
    );
    return true;
  });
  return {
    emf: () => lines.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>),
    lines,
    restore: () => spy.mockRestore(),
  };
};

const logLines: string[] = [];
const metrics = () =>
  createRelayMetrics({
    namespace: 'TestNamespace',
    service: 'threatstack-squadcast-relay',
    stage: 'unit',
    log: createJsonLogger('test', (line) => logLines.push(line)),
  });

let out: ReturnType<typeof captureStdout>;
beforeEach(() => {
  logLines.length = 0;
  out = captureStdout();
});
afterEach(() => out.restore());

describe('createRelayMetrics', () => {
  it('publishes one EMF document per flush: counts summed, latencies kept, dimensions service and stage only', () => {
    const m = metrics();
    m.count('received', 3);
    m.count('received', 2);
    m.count('filtered');
    m.squadcastLatency(120);
    m.squadcastLatency(80);
    expect(out.emf()).toEqual([]);
    m.flush();
    const [doc, ...rest] = out.emf();
    expect(rest).toEqual([]);
    expect(doc).toMatchObject({
      service: 'threatstack-squadcast-relay',
      stage: 'unit',
      AlertsReceived: 5,
      AlertsFiltered: 1,
      SquadcastLatency: [120, 80],
    });
    const aws = doc?._aws as {
      Timestamp: number;
      CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
    };
    expect(aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'TestNamespace',
        Dimensions: [['service', 'stage']],
        Metrics: expect.arrayContaining([
          { Name: 'AlertsReceived', Unit: 'Count' },
          { Name: 'AlertsFiltered', Unit: 'Count' },
          { Name: 'SquadcastLatency', Unit: 'Milliseconds' },
        ]),
      },
    ]);
  });

  it('starts afresh after a flush, and prints nothing (not even a warning) for an invocation that recorded nothing', () => {
    const m = metrics();
    m.count('delivered');
    m.flush();
    m.flush();
    m.count('retried', 2);
    m.flush();
    expect(out.emf().map(({ IncidentsDelivered, DeliveryRetried }) => ({ IncidentsDelivered, DeliveryRetried }))).toEqual([
      { IncidentsDelivered: 1, DeliveryRetried: undefined },
      { IncidentsDelivered: undefined, DeliveryRetried: 2 },
    ]);
    expect(logLines).toEqual([]);
    expect(out.lines.filter((l) => !l.startsWith('{"_aws"'))).toEqual([]);
  });

  it('publishes the largest value of each gauge of an invocation, in seconds (OldestHeldBackAlertAge, SquadcastFailingFor), then forgets them', () => {
    const m = metrics();
    m.largest('oldestHeldBackAlertAge', 12.4);
    m.largest('oldestHeldBackAlertAge', 615.6);
    m.largest('squadcastFailingFor', 30);
    m.largest('oldestHeldBackAlertAge', 30);
    m.flush();
    m.count('delivered');
    m.flush();
    const [gauges, next] = out.emf();
    expect(gauges).toMatchObject({ OldestHeldBackAlertAge: 616, SquadcastFailingFor: 30 });
    const published = (gauges?._aws as { CloudWatchMetrics: Array<{ Metrics: unknown[] }> } | undefined)?.CloudWatchMetrics[0]?.Metrics;
    expect(published).toContainEqual({ Name: 'OldestHeldBackAlertAge', Unit: 'Seconds' });
    expect(published).toContainEqual({ Name: 'SquadcastFailingFor', Unit: 'Seconds' });
    expect(next).not.toHaveProperty('OldestHeldBackAlertAge');
    expect(next).not.toHaveProperty('SquadcastFailingFor');
  });

  it('records a count of 0 when told (a steady series for graphs)', () => {
    const m = metrics();
    m.count('rejected', 0);
    m.flush();
    expect(out.emf()[0]).toMatchObject({ AlertsRejected: 0 });
  });

  it('names every metric once', () => {
    const names = Object.values(METRIC_NAMES);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
  });
});
