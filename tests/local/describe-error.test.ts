import { describeError } from '../../local/stack';

/** What the local stack prints for an error of its HTTP server or poller. */
describe('describeError', () => {
  it.each<[string, unknown]>([
    ['a request aborted mid-body', Object.assign(new Error('aborted'), { code: 'ECONNRESET' })],
    ['the same without a code', new Error('aborted')],
  ])('says what %s means, never a bare "Error: aborted"', (_name, error) => {
    expect(describeError(error)).toBe(
      'a client went away before its request was complete: nothing of it was accepted (it must send it again)',
    );
  });

  it('names any other error by its name and message', () => {
    expect(describeError(Object.assign(new Error('queue gone'), { name: 'QueueDoesNotExist' }))).toBe('QueueDoesNotExist: queue gone');
    expect(describeError('text')).toBe('error: text');
  });
});
