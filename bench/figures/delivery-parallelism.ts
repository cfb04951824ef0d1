import { BENCH, TARGETS } from '../config';
import { fixed, verdict } from '../report';
import { median, medianRatio } from '../stats';
import { defineFigure, figureHead, lower, need } from './figure';

/** Figure 3: a 10-record batch against a 1-record batch, Squadcast answering after a fixed delay, and the bare minimum's. */
export const deliveryParallelism = defineFigure({
  ...figureHead(3, 'delivery-parallelism', ['deliver']),
  compute: (measured) => {
    const { rounds: deliver, firstBatch } = need(measured, 'deliver');
    return {
      squadcastDelayMs: BENCH.squadcastDelayMs,
      rounds: deliver.oneRecordMs.length,
      oneRecordMedianMs: median(deliver.oneRecordMs),
      tenRecordsMedianMs: median(deliver.tenRecordsMs),
      ratio: medianRatio(deliver.tenRecordsMs, deliver.oneRecordMs),
      target: TARGETS.deliveryParallelism,
      bareOneRecordMedianMs: median(deliver.bareOneRecordMs),
      bareTenRecordsMedianMs: median(deliver.bareTenRecordsMs),
      /** The same ratio for the bare minimum: the best these emulators allow. */
      bareRatio: medianRatio(deliver.bareTenRecordsMs, deliver.bareOneRecordMs),
      /** How far the handler's 10-record batch is from the bare minimum's. */
      tenRecordsVsBare: medianRatio(deliver.tenRecordsMs, deliver.bareTenRecordsMs),
      vsBareTarget: TARGETS.deliveryVsBare,
      failedRecords: deliver.fresh.failedRecords,
      ceilingPerMinute: BENCH.liftedCeilingPerMinute,
      firstBatchAsConfigured: {
        runs: firstBatch.oneRecordMs.length,
        oneRecordMedianMs: median(firstBatch.oneRecordMs),
        tenRecordsMedianMs: median(firstBatch.tenRecordsMs),
        ratio: median(firstBatch.tenRecordsMs) / median(firstBatch.oneRecordMs),
        failedRecords: firstBatch.failed,
      },
    };
  },
  report: (parallelism) => {
    const first = parallelism.firstBatchAsConfigured;
    return [
      `3. Delivery parallelism: Squadcast answers each POST after ${parallelism.squadcastDelayMs} ms, ${parallelism.rounds} paired rounds`,
      `   1 record p50 ${fixed(parallelism.oneRecordMedianMs)} ms, 10 records p50 ${fixed(parallelism.tenRecordsMedianMs)} ms, ` +
        `failed records ${parallelism.failedRecords}`,
      `   ratio ${fixed(parallelism.ratio)} (10 sequential POSTs ≈ 10), target ≤ ${parallelism.target}: ` +
        `${verdict(parallelism.ratio, parallelism.target)}`,
      '   bare minimum on the same emulators (claim, POST, record; records in parallel): ' +
        `1 record p50 ${fixed(parallelism.bareOneRecordMedianMs)} ms, 10 records p50 ${fixed(parallelism.bareTenRecordsMedianMs)} ms, ` +
        `ratio ${fixed(parallelism.bareRatio)}`,
      `   handler's 10-record batch vs the bare minimum's: ${fixed(parallelism.tenRecordsVsBare)}, target ≤ ${parallelism.vsBareTarget}: ` +
        `${verdict(parallelism.tenRecordsVsBare, parallelism.vsBareTarget)}`,
      `   (rate ceiling lifted to ${BENCH.liftedCeilingPerMinute}/min. ` +
        'As serverless.yml configures it, a first batch in a fresh container:',
      `    1 record ${fixed(first.oneRecordMedianMs)} ms, 10 records ${fixed(first.tenRecordsMedianMs)} ms, ` +
        `ratio ${fixed(first.ratio)}, medians of ${first.runs})`,
    ];
  },
  headlines: (parallelism) => [
    lower('deliver, 1 record p50 ms', parallelism.oneRecordMedianMs),
    lower('deliver, 10 records p50 ms', parallelism.tenRecordsMedianMs),
    lower('deliver, 10 records ÷ 1 record', parallelism.ratio),
    lower("deliver, 10 records ÷ the bare minimum's", parallelism.tenRecordsVsBare),
  ],
});
