import { BENCH } from '../config';
import { LOCAL_POLLER } from '../end-to-end';
import { fixed } from '../report';
import { deliveryParallelism } from './delivery-parallelism';
import { defineFigure, figureHead, higher, lower, need } from './figure';

/** Figure 7: throughput and 200 → incident latency through `npm start`'s pipeline. */
export const endToEnd = defineFigure({
  ...figureHead(7, 'end-to-end', ['endToEnd']),
  compute: (measured) => need(measured, 'endToEnd'),
  report: (result, measured) => {
    const tp = result.throughputCounts;
    // Figure 3's bare 10-record batch, when it was measured too, explains the gap to the limit.
    const bareTenRecords = measured.runs.deliver === undefined ? undefined : deliveryParallelism.compute(measured).bareTenRecordsMedianMs;
    return [
      `7. End to end through \`npm start\` (local/main.ts), Squadcast answering after ${BENCH.squadcastDelayMs} ms`,
      `   webhook accepted ${fixed(result.acceptedPerSecond, 0)} alerts/s; delivered ${fixed(result.deliveredPerSecond, 0)} alerts/s ` +
        `sustained (${tp.alerts} alerts, ${BENCH.endToEndSenders} senders, ${BENCH.endToEndAlertsPerPost} a POST)`,
      `   delivery limit of the local poller (${LOCAL_POLLER.concurrency} pollers × ${LOCAL_POLLER.batchSize} records per ` +
        `${BENCH.squadcastDelayMs} ms Squadcast answer): ${fixed(result.deliveryLimitPerSecond, 0)} alerts/s, ` +
        `reached ${fixed(result.deliveredPerSecond / result.deliveryLimitPerSecond)}`,
      ...(bareTenRecords === undefined
        ? []
        : [
            "   (the emulators serialize each record's claim and record, so the bare 10-record batch of figure 3 takes " +
              `${fixed(bareTenRecords, 0)} ms, not ${BENCH.squadcastDelayMs})`,
          ]),
      `   200 → incident at Squadcast, at ${result.offeredPerSecond} alerts/s offered: p50 ${fixed(result.latencyMs.p50, 1)} ms, ` +
        `p99 ${fixed(result.latencyMs.p99, 1)} ms, max ${fixed(result.latencyMs.max, 1)} ms (${result.latencyMs.samples} alerts)`,
    ];
  },
  headlines: (result) => [
    higher('end to end: alerts/s accepted', result.acceptedPerSecond, 0),
    higher('end to end: alerts/s delivered', result.deliveredPerSecond, 0),
    lower('end to end: 200 → incident p50 ms', result.latencyMs.p50, 1),
    lower('end to end: 200 → incident p99 ms', result.latencyMs.p99, 1),
  ],
});
