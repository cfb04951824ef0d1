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

/**
 * A well-formed Threat Stack alert, as the public sources describe it (docs/reference): the shape the
 * test alert is built to, and the tests' alerts. Nothing decodes against it: ingest and deliver read
 * any object leniently (read-alert.ts), and a well-formed alert reads with no issue.
 */
export type Alert = {
  readonly id: string;
  readonly title: string;
  /** Epoch milliseconds, UTC. */
  readonly created_at: number;
  readonly severity: Severity;
  readonly organization_id: string;
  readonly server_or_region: string;
  readonly source: string;
  readonly organization_name?: string;
  /** The same field under a second documented spelling. */
  readonly organization_Name?: string;
};

/** `{"alerts": [...]}`: the usual batched shape. Each element is decoded on its own. */
export const AlertBatchCodec = t.type({ alerts: t.array(t.unknown) });
