import type * as t from 'io-ts';

/**
 * Turns io-ts errors into field paths with the expected type, never the value:
 * the payload is security data and must not be echoed back or logged.
 * e.g. `alerts[2].severity: expected Severity(1|2|3)`.
 */
export const describeProblems = (errors: t.Errors, prefix = ''): string[] => {
  const lines = errors.map((error) => {
    const path = error.context
      .filter((_entry, i, all) => i > 0 && !isMemberOf('IntersectionType', all[i - 1]))
      .map((entry) => entry.key)
      .reduce((acc, key) => (/^\d+$/.test(key) ? `${acc}[${key}]` : acc ? `${acc}.${key}` : key), prefix);
    return `${path || '(root)'}: expected ${describeType(error.context[error.context.length - 1]?.type)}`;
  });
  return [...new Set(lines)];
};

const tagOf = (type: t.Decoder<unknown, unknown> | undefined): string | undefined => (type as { _tag?: string } | undefined)?._tag;

/** io-ts puts the member index of an intersection into the path; it is not a field. */
const isMemberOf = (tag: string, parent: t.ContextEntry | undefined): boolean => tagOf(parent?.type) === tag;

const describeType = (type: t.Decoder<unknown, unknown> | undefined): string => {
  const tag = tagOf(type);
  if (tag === 'InterfaceType' || tag === 'PartialType' || tag === 'IntersectionType') return 'object';
  return type?.name ?? 'unknown';
};
