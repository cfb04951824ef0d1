import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';

/**
 * Threat Stack's webhook has no published schema; public sources disagree on whether
 * numbers arrive as JSON numbers or numeric strings (docs/reference/threatstack-webhook.md),
 * so every numeric field accepts both and decodes to a number.
 */
const NumericStringPattern = /^\s*-?\d+\s*$/;

export const IntegerFromNumberOrString = new t.Type<number, number, unknown>(
  'IntegerFromNumberOrString',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u),
  (u, c) => {
    if (typeof u === 'number') return Number.isSafeInteger(u) ? t.success(u) : t.failure(u, c);
    if (typeof u === 'string' && NumericStringPattern.test(u)) {
      const n = Number(u);
      return Number.isSafeInteger(n) ? t.success(n) : t.failure(u, c);
    }
    return t.failure(u, c);
  },
  (n) => n,
);

/** 1 is the most severe. */
export type Severity = 1 | 2 | 3;

/** How a setting may name a severity: its number, or Threat Stack's word for it. */
export const SEVERITY_WORDS: Readonly<Record<string, Severity>> = { '1': 1, '2': 2, '3': 3, high: 1, medium: 2, low: 3 };

export const SeverityCodec = new t.Type<Severity, Severity, unknown>(
  'Severity(1|2|3)',
  (u): u is Severity => u === 1 || u === 2 || u === 3,
  (u, c) => {
    const n = IntegerFromNumberOrString.validate(u, c);
    if (isLeft(n)) return n;
    return n.right === 1 || n.right === 2 || n.right === 3 ? t.success(n.right) : t.failure(u, c);
  },
  (s) => s,
);

/** A string that is not empty once trimmed (ids and titles must say something). */
export const NonBlankString = t.refinement(t.string, (s) => s.trim().length > 0, 'NonBlankString');

/** Epoch milliseconds, UTC: integer, not negative, within Date's range. */
export const EpochMillis = t.refinement(IntegerFromNumberOrString, (n) => n >= 0 && n <= 8.64e15, 'EpochMillis');

/**
 * A well-formed Threat Stack alert, as the public sources describe it. Unknown extra fields are
 * kept (io-ts `type` does not strip them). Nothing is refused for failing it: ingest and deliver
 * read any object leniently (`read-alert.ts`); this is the shape the test alert is built to, and a
 * well-formed alert reads with no issue.
 */
export const AlertCodec = t.intersection([
  t.type({
    id: NonBlankString,
    title: t.string,
    created_at: EpochMillis,
    severity: SeverityCodec,
    organization_id: t.string,
    server_or_region: t.string,
    source: t.string,
  }),
  t.partial({
    organization_name: t.string,
    /** The same field under a second documented spelling. */
    organization_Name: t.string,
  }),
]);
export type Alert = t.TypeOf<typeof AlertCodec>;

/** `{"alerts": [...]}`: the usual batched shape. Each element is decoded on its own. */
export const AlertBatchCodec = t.type({ alerts: t.array(t.unknown) });
