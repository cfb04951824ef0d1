import { BENCH, TARGETS } from '../config';
import { fixed, verdict } from '../report';
import { median, medianRatio, sumCounts } from '../stats';
import { defineFigure, figureHead, lower, need } from './figure';

/** Figure 2: the ingest handler against a bare parallel SendMessageBatch script, paired rounds. */
export const ingestOverhead = defineFigure({
  ...figureHead(2, 'ingest-overhead', ['ingest']),
  compute: (measured) => {
    const { overhead } = need(measured, 'ingest');
    return {
      alerts: BENCH.overheadBatchSize,
      rounds: overhead.handlerMs.length,
      handlerMedianMs: median(overhead.handlerMs),
      bareMedianMs: median(overhead.bareMs),
      ratio: medianRatio(overhead.handlerMs, overhead.bareMs),
      /** The same, split by which of the pair ran first (even rounds: the handler): shows any order effect. */
      ratioByOrder: ([0, 1] as const).map((parity) =>
        medianRatio(
          overhead.handlerMs.filter((_, i) => i % 2 === parity),
          overhead.bareMs.filter((_, i) => i % 2 === parity),
        ),
      ),
      handlerSqsRequests: overhead.handlerSqsRequests,
      bareSqsRequests: overhead.bareSqsRequests,
      target: TARGETS.ingestOverhead,
    };
  },
  report: (overhead) => [
    `2. Ingest overhead: ${overhead.alerts} alerts, handler vs bare parallel SendMessageBatch, ${overhead.rounds} paired rounds`,
    `   handler p50 ${fixed(overhead.handlerMedianMs)} ms (${sumCounts(overhead.handlerSqsRequests)} SQS requests), ` +
      `bare p50 ${fixed(overhead.bareMedianMs)} ms (${sumCounts(overhead.bareSqsRequests)} SQS requests)`,
    `   ratio ${fixed(overhead.ratio)} (median of paired ratios; handler first ${fixed(overhead.ratioByOrder[0])}, ` +
      `bare first ${fixed(overhead.ratioByOrder[1])}), target ≤ ${overhead.target}: ${verdict(overhead.ratio, overhead.target)}`,
  ],
  headlines: (overhead) => [
    lower(`ingest handler p50 ms, ${overhead.alerts} alerts`, overhead.handlerMedianMs),
    lower('ingest handler ÷ bare SendMessageBatch', overhead.ratio),
  ],
});
