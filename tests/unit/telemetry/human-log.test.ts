import { formatHumanLine } from '../../../lib/telemetry/human-log';
import { createJsonLogger } from '../../../lib/telemetry/powertools-logger';

/** The local stack's terminal: one short line an event, from the same log calls Lambda prints as JSON. */
describe('formatHumanLine', () => {
  it('keeps the time, the function, the message and the event’s own fields; leaves out the Lambda context', () => {
    const line = formatHumanLine({
      level: 'INFO',
      message: 'incident delivered',
      service: 'deliver',
      timestamp: '2026-12-04T10:32:01.123Z',
      cold_start: true,
      function_arn: 'arn:aws:lambda:us-east-1:1:function:x',
      function_request_id: 'r-1',
      correlation_id: 'abc',
      alertId: 'abc',
      status: 202,
      latencyMs: 12,
    });
    expect(line).toBe('10:32:01 deliver    incident delivered  alertId=abc  status=202  latencyMs=12');
  });

  it('names warnings and errors, and shows lists compactly', () => {
    expect(
      formatHumanLine({
        level: 'WARN',
        message: 'webhook refused',
        service: 'ingest',
        timestamp: '2026-12-04T10:32:02.000Z',
        reason: 'token',
      }),
    ).toBe('10:32:02 ingest     WARN webhook refused  reason=token');
    // A list of ids reads as one; anything else nested stays JSON.
    expect(
      formatHumanLine({ level: 'INFO', message: 'm', service: 's', timestamp: 'x', alertIds: ['a', 'b'], severities: [1, 3] }),
    ).toContain('alertIds=a,b  severities=1,3');
    expect(formatHumanLine({ level: 'INFO', message: 'm', service: 's', timestamp: 'x', problems: [{ field: 'f' }] })).toContain(
      'problems=[{"field":"f"}]',
    );
  });

  it('prints a line that lacks the usual keys, and a value JSON cannot hold, without inventing one', () => {
    expect(formatHumanLine({ level: 'INFO', detail: Symbol('x') })).toBe(`${' '.repeat(11)}   detail=Symbol(x)`);
  });

  it('shows the control characters an alert id could carry to the terminal as escapes, never raw', () => {
    const line = formatHumanLine({
      level: 'INFO',
      message: 'incident delivered',
      service: 'deliver',
      timestamp: 'x',
      alertId: 'evil\u001b]0;owned\u0007\u001b[2K\rforged',
    });
    expect([...line].filter((c) => c < ' ' || c === '\u007f')).toEqual([]);
    expect(line).toContain('alertId=evil\\u001b]0;owned\\u0007\\u001b[2K\\u000dforged');
  });

  it('the finding: two ids that differ only in lone surrogates show apart', () => {
    const show = (alertId: string) => formatHumanLine({ level: 'INFO', message: 'm', alertId });
    expect(show('v-\ud801')).toContain('alertId=v-\\ud801');
    expect(show('v-\udc02')).toContain('alertId=v-\\udc02');
  });
});

describe('createJsonLogger with the human format', () => {
  it('writes one human line for each log call', () => {
    const lines: string[] = [];
    const log = createJsonLogger('ingest', (line) => lines.push(line), 'human');
    log.info('webhook accepted', { received: 3, enqueued: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{2}:\d{2}:\d{2} ingest {5}webhook accepted {2}received=3 {2}enqueued=3$/);
  });
});
