import { createJsonLogger } from '../../../lib/telemetry/powertools-logger';

type Line = Record<string, unknown>;

const capture = (service = 'ingest') => {
  const lines: string[] = [];
  const log = createJsonLogger(service, (line) => lines.push(line));
  return { log, lines, parsed: (): Line[] => lines.map((line) => JSON.parse(line) as Line) };
};

describe('createJsonLogger', () => {
  it('writes one JSON object a line with level, message, service, timestamp and the fields', () => {
    const { log, lines, parsed } = capture('deliver');
    log.info('incident delivered', { status: 202, latencyMs: 12 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [line] = parsed();
    expect(line).toEqual(
      expect.objectContaining({ level: 'INFO', message: 'incident delivered', service: 'deliver', status: 202, latencyMs: 12 }),
    );
    expect(new Date(String(line?.timestamp)).toISOString()).toBe(line?.timestamp);
  });

  it.each<['info' | 'warn' | 'error', string]>([
    ['info', 'INFO'],
    ['warn', 'WARN'],
    ['error', 'ERROR'],
  ])('%s logs at level %s', (method, level) => {
    const { log, parsed } = capture();
    log[method]('m');
    expect(parsed()[0]?.level).toBe(level);
  });

  it('logs a message without fields', () => {
    const { log, parsed } = capture();
    log.warn('webhook refused');
    expect(parsed()[0]).toEqual(expect.objectContaining({ level: 'WARN', message: 'webhook refused' }));
  });

  it('keeps nested fields as JSON', () => {
    const { log, parsed } = capture();
    log.error('could not queue every alert', { failedAlertIds: ['a', 'b'], counts: { failed: 2 } });
    expect(parsed()[0]).toEqual(expect.objectContaining({ failedAlertIds: ['a', 'b'], counts: { failed: 2 } }));
  });

  it('adds the alert id as correlation_id', () => {
    const { log, parsed } = capture();
    log.info('incident delivered', { alertId: 'alert-1' });
    log.info('other', { alertIds: ['alert-2'] });
    expect(parsed().map((line) => line.correlation_id)).toEqual(['alert-1', undefined]);
  });
});
