import fc from 'fast-check';
import { ledgerKeyOf } from '../../../lib/ledger/ledger-table';

describe('ledgerKeyOf', () => {
  it('keys a well-formed id as sent, as it always did', () => {
    expect(ledgerKeyOf('5f0c1d2e3a4b5c6d7e8f9a0b')).toBe('alert#5f0c1d2e3a4b5c6d7e8f9a0b');
    expect(ledgerKeyOf('id 😀')).toBe('alert#id 😀');
  });

  it('the finding: ids differing only in lone surrogates get two keys, neither of them U+FFFD', () => {
    const [a, b] = [ledgerKeyOf('v-\ud801'), ledgerKeyOf('v-\udc02')];
    expect(a).not.toBe(b);
    expect(a).toBe('alert-escaped#v-\\ud801');
    expect(`${a}${b}`).not.toContain('\ufffd');
  });

  it('property: distinct ids never share a key, and every key is well-formed text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        fc.pre(a !== b);
        expect(ledgerKeyOf(a)).not.toBe(ledgerKeyOf(b));
        expect(Buffer.from(ledgerKeyOf(a), 'utf8').toString('utf8')).toBe(ledgerKeyOf(a));
      }),
      { numRuns: 500 },
    );
  });
});
