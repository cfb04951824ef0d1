import { isLeft } from 'fp-ts/Either';
import type * as t from 'io-ts';
import { describeProblems } from './problems';

/**
 * The one shape of an expected outcome that can fail on bad input: a discriminated union on
 * `kind`. Problems name field paths or positions, never the values (see `describeProblems`).
 * Outcomes with more cases than valid/invalid (an ingest answer, a send, a claim) are their own
 * unions on `kind`, in the same style.
 */
export type Checked<T> = { readonly kind: 'valid'; readonly value: T } | { readonly kind: 'invalid'; readonly problems: readonly string[] };

export const valid = <T>(value: T): Checked<T> => ({ kind: 'valid', value });

export const invalid = <T = never>(...problems: readonly string[]): Checked<T> => ({ kind: 'invalid', problems });

/** Decodes with an io-ts codec: the one place io-ts results are tested (with `isLeft`). */
export const decodeWith = <C extends t.Mixed>(codec: C, input: unknown, pathPrefix = ''): Checked<t.TypeOf<C>> => {
  const result = codec.decode(input);
  return isLeft(result) ? invalid(...describeProblems(result.left, pathPrefix)) : valid(result.right);
};

/** The value of a valid outcome; an invalid one throws what `toError` makes of its problems. */
export const valueOrThrow = <T>(checked: Checked<T>, toError: (problems: readonly string[]) => Error): T => {
  if (checked.kind === 'invalid') throw toError(checked.problems);
  return checked.value;
};
