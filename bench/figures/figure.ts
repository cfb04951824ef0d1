import type { PackagedFunction } from '../bundles';
import type { WireCounts } from '../counting-proxy';
import type { RunName, Runs } from '../measurements';

/** What a figure is computed from: the runs measured, the packaged functions, DynamoDB's wire counts at the end. */
export interface Measured {
  readonly runs: Partial<Runs>;
  fn(name: string): PackagedFunction;
  readonly dynamodbCounts: WireCounts;
}

/** One figure of `npm run bench`: what it needs measured, how it is computed, how it is printed. */
export interface Figure<R = unknown> {
  /** The name `npm run bench -- --only <name>` takes. */
  readonly name: string;
  readonly number: number;
  /** Its key under `figures` in bench/results/*.json. */
  readonly key: string;
  /** The runs it is computed from, its own and those of the figures it builds on. */
  readonly needs: readonly RunName[];
  compute(measured: Measured): R;
  /** Its part of the printed report. */
  report(result: R, measured: Measured): string[];
}

/** A figure, its result type inferred from `compute` and given to `report`. */
export const defineFigure = <R>(figure: Figure<R>): Figure<R> => figure;

/** A figure's number, its name (`--only` takes it), the runs it needs, and its results key (default: the name in camelCase). */
export const figureHead = (number: number, name: string, needs: readonly RunName[], key?: string) => ({
  number,
  name,
  key: key ?? name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase()),
  needs,
});

/** A run the figure cannot do without. */
export const need = <K extends RunName>(measured: Measured, run: K): Runs[K] => {
  const value = measured.runs[run];
  if (value === undefined) throw new Error(`bench: the ${run} run was not measured`);
  return value as Runs[K];
};

export const perAlert = (count: number | undefined, alerts: number): number => (count ?? 0) / alerts;
