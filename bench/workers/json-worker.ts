import { readFileSync } from 'node:fs';
import { medianRatio } from '../stats';
import { elapsedMs, loadModule, readWorkerSettings, runWorker } from './worker-io';

export interface JsonWorkerSettings {
  /** The project's lib/common/json.ts, bundled: its `parseJson`. */
  readonly modulePath: string;
  /** `overIngestLimit`: a body ingest refuses before reading it (too many escaped keys); its ratio has no target. */
  readonly bodies: readonly { readonly name: string; readonly file: string; readonly overIngestLimit?: boolean }[];
  readonly rounds: number;
}

export interface JsonTiming {
  readonly name: string;
  readonly overIngestLimit?: boolean;
  readonly bytes: number;
  readonly parseJsonMs: readonly number[];
  readonly nativeMs: readonly number[];
  readonly ratio: number;
}

/**
 * Figure 6: the relay's JSON reader against native JSON.parse on the same body, in one process,
 * taking turns (which goes first alternates each round). The bodies run one after another, so a
 * reader that slows down every later JSON.parse in the process shows in the next body's figures.
 */
runWorker(async (): Promise<JsonTiming[]> => {
  const settings = readWorkerSettings<JsonWorkerSettings>();
  const { parseJson } = loadModule<{ parseJson: (text: string) => unknown }>(settings.modulePath);
  const timed = (parse: (text: string) => unknown, text: string): number => {
    const started = process.hrtime.bigint();
    parse(text);
    return elapsedMs(started);
  };
  return settings.bodies.map(({ name, file, overIngestLimit }) => {
    const text = readFileSync(file, 'utf8');
    const parseJsonMs: number[] = [];
    const nativeMs: number[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      if (round % 2 === 0) {
        parseJsonMs.push(timed(parseJson, text));
        nativeMs.push(timed(JSON.parse, text));
      } else {
        nativeMs.push(timed(JSON.parse, text));
        parseJsonMs.push(timed(parseJson, text));
      }
    }
    return {
      name,
      ...(overIngestLimit === true ? { overIngestLimit } : {}),
      bytes: Buffer.byteLength(text),
      parseJsonMs,
      nativeMs,
      ratio: medianRatio(parseJsonMs, nativeMs),
    };
  });
});
