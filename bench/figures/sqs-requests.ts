import { BENCH } from '../config';
import { fixed, renderTable } from '../report';
import { minBatchRequestsPerMessage, sumCounts } from '../stats';
import { defineFigure, figureHead, lower, need } from './figure';

/** Figure 1: SendMessageBatch requests per accepted alert, by batch size, against the fewest the API allows. */
export const sqsRequests = defineFigure({
  ...figureHead(1, 'sqs-requests', ['ingest'], 'sqsRequestsPerAlert'),
  compute: (measured) =>
    need(measured, 'ingest').bySize.map((row) => {
      const sent = row.sqsRequests.SendMessageBatch ?? 0;
      const measuredPerAlert = sent / row.accepted;
      const limit = minBatchRequestsPerMessage(row.alerts);
      return {
        alerts: row.alerts,
        accepted: row.accepted,
        statuses: row.statuses,
        requests: row.sqsRequests,
        billed: sumCounts(row.sqsBilledRequests),
        perAlert: measuredPerAlert,
        limit,
        ratio: measuredPerAlert / limit,
        medianMs: row.medianMs,
      };
    }),
  report: (sqsBySize) => [
    '1. SQS requests per accepted alert at ingest (SendMessageBatch, counted at the wire)',
    renderTable(
      ['alerts/POST', 'POSTs', 'HTTP', 'SendMessageBatch', 'per alert', 'limit ⌈n/10⌉/n', 'ratio', 'billed (64 KiB)'],
      sqsBySize.map((r) => [
        String(r.alerts),
        String(BENCH.ingestRoundsPerSize),
        r.statuses.join(','),
        String(r.requests.SendMessageBatch ?? 0),
        fixed(r.perAlert, 3),
        fixed(r.limit, 3),
        fixed(r.ratio),
        String(r.billed),
      ]),
    ),
  ],
  headlines: (sqsBySize) => sqsBySize.map((r) => lower(`SendMessageBatch per alert, ${r.alerts} a POST`, r.perAlert, 3)),
});
