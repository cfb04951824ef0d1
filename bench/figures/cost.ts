import { PRICES } from '../config';
import type { MeasuredDesign } from '../cost';
import { costPerMillionAlerts, usageOfDesign, usageWithoutBatching } from '../cost';
import { dollars, fixed, renderTable } from '../report';
import { deliveryParallelism } from './delivery-parallelism';
import { defineFigure, figureHead, lower, need, perAlert } from './figure';
import { requestsPerAlert } from './requests-per-alert';
import { sqsRequests } from './sqs-requests';

/** Figure 8: cost per million alerts at AWS list prices, from the requests and times of figures 1, 3, 4 and 7. */
export const cost = defineFigure({
  ...figureHead(8, 'cost', ['ingest', 'deliver', 'endToEnd']),
  compute: (measured) => {
    const ingest = need(measured, 'ingest');
    const fresh = need(measured, 'deliver').rounds.fresh;
    const tp = need(measured, 'endToEnd').throughputCounts;
    const sqsBySize = sqsRequests.compute(measured);
    const parallelism = deliveryParallelism.compute(measured);
    const requests = requestsPerAlert.compute(measured);
    const pollBilled = (tp.nonEmptyReceives + (tp.sqsBilledRequests.DeleteMessageBatch ?? 0)) / tp.alerts;
    return [1, 10, 100].map((alertsPerPost) => {
      const size = sqsBySize.find((row) => row.alerts === alertsPerPost);
      if (size === undefined) throw new Error(`figure 1 did not measure ${alertsPerPost} alerts a POST`);
      const design: MeasuredDesign = {
        alertsPerPost,
        ingestMs: size.medianMs,
        ingestSqsBilledPerAlert:
          (ingest.bySize.find((r) => r.alerts === alertsPerPost)?.sqsBilledRequests.SendMessageBatch ?? 0) / size.accepted,
        pollSqsBilledPerAlert: pollBilled,
        recordsPerInvocation: requests.pipeline.recordsPerReceive,
        deliverOneRecordMs: parallelism.oneRecordMedianMs,
        deliverTenRecordsMs: parallelism.tenRecordsMedianMs,
        dynamodbWriteUnitsPerAlert: requests.dynamodbWriteUnitsPerAlert,
        dynamodbReadUnitsPerAlert: perAlert(fresh.dynamodbRequests.GetItem, fresh.records),
        ingestMemoryMb: measured.fn('ingest').memoryMb,
        deliverMemoryMb: measured.fn('deliver').memoryMb,
      };
      const ours = costPerMillionAlerts(usageOfDesign(design), PRICES);
      const unbatched = costPerMillionAlerts(usageWithoutBatching(design), PRICES);
      return { alertsPerPost, measured: design, design: ours, withoutBatching: unbatched, saved: unbatched.total - ours.total };
    });
  },
  report: (costs) => [
    `8. Cost per million alerts at AWS list prices (${PRICES.region}, looked up ${PRICES.lookedUp}; bench/config.ts), free tiers ignored`,
    renderTable(
      ['alerts/POST', 'API Gateway', 'Lambda', 'SQS', 'DynamoDB', 'this design', 'no batching', 'saved'],
      costs.map((c) => [
        String(c.alertsPerPost),
        dollars(c.design.apiGateway),
        dollars(c.design.lambda),
        dollars(c.design.sqs),
        dollars(c.design.dynamodb),
        dollars(c.design.total),
        dollars(c.withoutBatching.total),
        `${fixed((100 * c.saved) / c.withoutBatching.total, 0)} %`,
      ]),
    ),
    '   no batching = one SendMessage per alert, and deliver with batch size 1 (one receive, delete and invocation per alert); ' +
      'same API Gateway and DynamoDB.',
    "   Lambda time is this machine's measured handler time (emulators, fake Squadcast at 50 ms); " +
      'idle long polls of the event source mapping are a fixed monthly cost, not counted.',
  ],
  headlines: (costs) => costs.map((c) => lower(`$ per million alerts, ${c.alertsPerPost} a POST`, c.design.total, 3)),
});
