import type { SendOutcome } from '../../../lib/delivery/send-outcome';
import { classifyError, classifyStatus, parseRetryAfter } from '../../../lib/delivery/send-outcome';

const NOW = new Date('2023-11-14T22:13:20.000Z');
const SECRET_URL = 'https://api.squadcast.com/v2/incidents/api/0123456789abcdef-secret-key';

describe('classifyStatus', () => {
  it.each([200, 201, 202, 204, 299])('%p is delivered', (status) => {
    expect(classifyStatus(status, null, NOW)).toEqual({ kind: 'delivered', status });
  });

  it.each<[number, string]>([
    [408, 'timeout'],
    [429, 'throttled'],
    [500, 'server-error'],
    [502, 'server-error'],
    [503, 'server-error'],
    [504, 'server-error'],
    [599, 'server-error'],
  ])('%p is transient, of class %s', (status, failure) => {
    expect(classifyStatus(status, null, NOW)).toEqual({ kind: 'transient', reason: `Squadcast answered ${status}`, failure });
  });

  it.each([400, 401, 403, 404, 405, 409, 413, 422, 301, 302, 307, 308, 304, 100, 199])('%p is permanent', (status) => {
    expect(classifyStatus(status, null, NOW)).toEqual({ kind: 'permanent', reason: `Squadcast answered ${status}`, failure: 'refused' });
  });

  it.each<[number, string, SendOutcome]>([
    [429, '30', { kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled', retryAfterMs: 30_000 }],
    [
      503,
      'Tue, 14 Nov 2023 22:15:20 GMT',
      { kind: 'transient', reason: 'Squadcast answered 503', failure: 'server-error', retryAfterMs: 120_000 },
    ],
    [429, 'soon', { kind: 'transient', reason: 'Squadcast answered 429', failure: 'throttled' }],
    [400, '30', { kind: 'permanent', reason: 'Squadcast answered 400', failure: 'refused' }],
    [202, '30', { kind: 'delivered', status: 202 }],
  ])('%p with Retry-After %p', (status, retryAfter, outcome) => {
    expect(classifyStatus(status, retryAfter, NOW)).toEqual(outcome);
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | null, number | undefined]>([
    [null, undefined],
    ['', undefined],
    ['   ', undefined],
    ['0', 0],
    ['1', 1_000],
    ['120', 120_000],
    [' 15 ', 15_000],
    ['Tue, 14 Nov 2023 22:13:50 GMT', 30_000],
    ['Tue, 14 Nov 2023 23:13:20 GMT', 3_600_000],
    ['Tue, 14 Nov 2023 22:00:00 GMT', 0],
    ['not a date', undefined],
  ])('%p -> %p ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });
});

describe('classifyError', () => {
  const domException = (name: string): Error => new DOMException('The operation was aborted', name);

  it.each<[string, unknown, string]>([
    ['a timeout (AbortSignal.timeout)', domException('TimeoutError'), 'Squadcast request timed out'],
    ['an abort', domException('AbortError'), 'Squadcast request timed out'],
    [
      'a refused connection',
      new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ECONNREFUSED ${SECRET_URL}`), { code: 'ECONNREFUSED' }) }),
      'network error (ECONNREFUSED)',
    ],
    [
      'a DNS failure',
      new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${SECRET_URL}`), { code: 'ENOTFOUND' }) }),
      'network error (ENOTFOUND)',
    ],
    ['a reset socket', new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } }), 'network error (UND_ERR_SOCKET)'],
    ['an error without a code', new TypeError(`fetch failed for ${SECRET_URL}`), 'network error (TypeError)'],
    ['something that is not an error', SECRET_URL, 'network error (unknown)'],
    ['null', null, 'network error (unknown)'],
    ['undefined', undefined, 'network error (unknown)'],
  ])('%s is transient', (_name, error, reason) => {
    const outcome = classifyError(error);
    expect(outcome).toEqual({ kind: 'transient', reason, failure: reason.includes('timed out') ? 'timeout' : 'network' });
    expect(JSON.stringify(outcome)).not.toContain('squadcast.com');
    expect(JSON.stringify(outcome)).not.toContain('secret-key');
  });
});
