import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { FINGERPRINTED_FIELDS, fingerprintOf } from '../../../lib/alert/fingerprint';
import { canonicalJson, readAlert } from '../../../lib/alert/read-alert';
import { aRawAlert } from '../../helpers/factories';

/**
 * lib/alert/fingerprint.ts: a fingerprint compares the values the relay reads, not their JSON
 * spelling. Property: any two spellings the reader accepts as one value give one fingerprint.
 */
const RECEIVED_AT = new Date('2026-12-06T12:00:00.000Z');

/** Every spelling of a severity the reader accepts as that severity. */
const severitySpelling = (severity: 1 | 2 | 3): fc.Arbitrary<unknown> =>
  fc.constantFrom<unknown>(severity, String(severity), ` ${severity}`, `${severity} `, ` ${severity} `);

/** Every spelling of a creation time (epoch ms) the reader accepts as that instant. */
const createdAtSpelling = (ms: number): fc.Arbitrary<unknown> =>
  fc.constantFrom<unknown>(ms, String(ms), ` ${ms} `, `${ms}.0`, `${ms}.000`, new Date(ms).toISOString());

const alertWith = (severity: unknown, createdAt: unknown) =>
  aRawAlert({ id: 'fp-1', title: 'Host: sudo', severity, created_at: createdAt }) as Record<string, unknown>;

describe('fingerprintOf', () => {
  it('property: two spellings the reader reads as one value give one fingerprint', () => {
    const instant = fc.integer({ min: Date.UTC(2012, 0, 1), max: Date.UTC(2026, 11, 1) });
    const severity = fc.constantFrom<1 | 2 | 3>(1, 2, 3);
    fc.assert(
      fc.property(
        severity.chain((s) => fc.tuple(severitySpelling(s), severitySpelling(s))),
        instant.chain((ms) => fc.tuple(createdAtSpelling(ms), createdAtSpelling(ms))),
        ([severityA, severityB], [createdA, createdB]) => {
          const [a, b] = [alertWith(severityA, createdA), alertWith(severityB, createdB)];
          // The reader does read them as one value...
          const [readA, readB] = [readAlert(a, { receivedAt: RECEIVED_AT }), readAlert(b, { receivedAt: RECEIVED_AT })];
          expect(readA.severity).toBe(readB.severity);
          expect(readA.createdAt?.at?.getTime()).toBe(readB.createdAt?.at?.getTime());
          // ...so the fingerprint is one.
          expect(fingerprintOf(a)).toEqual(fingerprintOf(b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the finding: severity 2 and created_at in ms, resent as "2" and "1700000000000", is the same alert', () => {
    expect(fingerprintOf(alertWith(2, 1_700_000_000_000))).toEqual(fingerprintOf(alertWith('2', '1700000000000')));
  });

  it('values the reader reads differently differ: another severity, another instant, another title', () => {
    const base = fingerprintOf(alertWith(2, 1_700_000_000_000)).value;
    expect(fingerprintOf(alertWith(1, 1_700_000_000_000)).value).not.toBe(base);
    expect(fingerprintOf(alertWith(2, 1_700_000_000_001)).value).not.toBe(base);
    expect(fingerprintOf({ ...alertWith(2, 1_700_000_000_000), title: 'Host: sudo!' }).value).not.toBe(base);
  });

  it('an unreadable value counts as sent: "urgent" and "URGENT" differ, and differ from any severity', () => {
    const [urgent, shouting] = [fingerprintOf(alertWith('urgent', 1)), fingerprintOf(alertWith('URGENT', 1))];
    expect(urgent.value).not.toBe(shouting.value);
    expect(urgent.value).not.toBe(fingerprintOf(alertWith(1, 1)).value);
  });

  it('an alert spelled with numbers keeps the fingerprint it had before values were read (no repage after an upgrade)', () => {
    // The earlier rule, written out: each field's JSON as sent.
    const digest = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);
    const before = (fields: Record<string, unknown>) =>
      digest(
        canonicalJson(
          Object.fromEntries(
            FINGERPRINTED_FIELDS.map((key) => [
              key,
              digest(Object.hasOwn(fields, key) ? `=${canonicalJson(fields[key])}` : '(absent)', 16),
            ]),
          ),
        ),
        32,
      );
    const alert = alertWith(3, 1_700_000_000_000);
    expect(fingerprintOf(alert).value).toBe(before(alert));
  });
});
