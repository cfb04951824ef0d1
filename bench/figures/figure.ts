import type { PackagedFunction } from '../bundles';
import type { RunName, Runs } from '../measurements';

/** What a figure is computed from: the runs measured and the packaged functions. */
export interface Measured {
  readonly runs: Partial<Runs>;
  fn(name: string): PackagedFunction;
}

/**
 * One number a figure stands for, as `npm run bench -- --against <ref>` compares it: which way is
 * better, so that a change for the worse is marked whichever way the number moves.
 */
export interface Headline {
  readonly label: string;
  readonly value: number | undefined;
  readonly better: 'lower' | 'higher';
  /** Decimals to print (2 by default). */
  readonly digits?: number;
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
  /** The numbers `--against` compares, today ÷ the ref. */
  headlines(result: R): Headline[];
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

const headline =
  (better: Headline['better']) =>
  (label: string, value: number | undefined, digits?: number): Headline => ({
    label,
    value,
    better,
    ...(digits === undefined ? {} : { digits }),
  });
/** A headline where lower is better (a time, a ratio to a bare minimum, bytes, dollars). */
export const lower = headline('lower');
/** A headline where higher is better (alerts a second). */
export const higher = headline('higher');

export const perAlert = (count: number | undefined, alerts: number): number => (count ?? 0) / alerts;
