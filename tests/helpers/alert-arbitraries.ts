/**
 * fast-check arbitraries for hostile Threat Stack input: valid alerts in every documented shape
 * with odd text everywhere, alerts broken in one field, and mixed batches of both.
 */
import fc from 'fast-check';

/** Planted in input values and keys; it must never come back in an answer or a log line. */
export const MARK = 'Zq9MARKq9Z';

/** Any string, including lone surrogates, control characters, noncharacters and astral planes. */
export const anyText = fc.string({ unit: 'binary', maxLength: 40 });
export const markedText = anyText.map((s) => `${s}${MARK}`);

let idSequence = 0;
/** A valid alert in any documented shape (numbers as numbers or as numeric strings), with odd extra fields. */
export const validAlert = fc
  .record({
    title: fc.oneof(markedText, fc.constant('')),
    created_at: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 0, max: 4_102_444_800_000 }).map(String)),
    severity: fc.oneof(fc.constantFrom(1, 2, 3), fc.constantFrom('1', '2', '3', ' 2 ')),
    organization_id: markedText,
    server_or_region: markedText,
    source: fc.oneof(fc.constantFrom('Host', 'CloudTrail'), markedText),
    extra: fc.dictionary(markedText, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
    orgName: fc.option(markedText, { nil: undefined }),
  })
  .map(({ extra, orgName, ...fields }) => ({
    ...extra,
    ...fields,
    ...(orgName === undefined ? {} : { organization_name: orgName }),
    id: `valid-${++idSequence}-${MARK}`,
  }));

/** A valid alert broken in one way: a required field missing, of the wrong type, or out of range. */
export const brokenAlert = fc
  .tuple(
    validAlert,
    fc.constantFrom('id', 'title', 'created_at', 'severity', 'organization_id', 'server_or_region', 'source'),
    fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.constantFrom(0, 4, -1, 1.5, 'urgent', '', '   ', true, [], {}, 2 ** 53 + 2, Number.POSITIVE_INFINITY),
      fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 }),
    ),
  )
  .filter(([, field, value]) => {
    // Keep only values the codec must refuse for that field.
    if (field === 'title' || field === 'organization_id' || field === 'server_or_region' || field === 'source')
      return typeof value !== 'string';
    if (field === 'created_at') return !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
    if (field === 'severity') return ![1, 2, 3].includes(value as number);
    return !(typeof value === 'string' && value.trim() !== '');
  })
  .map(([alert, field, value]) => {
    const broken: Record<string, unknown> = { ...alert };
    if (value === undefined) delete broken[field];
    else broken[field] = value;
    return broken;
  });

export type Element =
  | { readonly kind: 'valid'; readonly value: Record<string, unknown> }
  | { readonly kind: 'invalid'; readonly value: unknown };

/** A batch mixing valid alerts, broken ones, arbitrary JSON, and repeats of earlier valid ids. */
export const mixedBatch = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: validAlert.map((value): Element => ({ kind: 'valid', value })) },
      { weight: 3, arbitrary: brokenAlert.map((value): Element => ({ kind: 'invalid', value })) },
      {
        weight: 1,
        arbitrary: fc
          .jsonValue({ maxDepth: 2 })
          .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
          .map((value): Element => ({ kind: 'invalid', value })),
      },
    ),
    { minLength: 1, maxLength: 25 },
  )
  .chain((elements) =>
    fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 3 }).map((repeats) => {
      const valid = elements.filter((e) => e.kind === 'valid');
      // A repeat names an earlier alert's id: the same alert again (paged once), or the same id with
      // another title (another version of it, which pages too).
      const copies =
        valid.length === 0
          ? []
          : repeats.map(([n, changed]): Element => {
              const original = (valid[n % valid.length] as Element & { kind: 'valid' }).value;
              return { kind: 'valid', value: changed ? { ...original, title: `repeat ${MARK}` } : { ...original } };
            });
      return [...elements, ...copies];
    }),
  );
