import { fixed, renderTable } from '../report';
import { sumCounts, writeRequestUnits } from '../stats';
import { defineFigure, figureHead, need, perAlert } from './figure';

/**
 * Figure 4: requests per delivered alert, by deliver alone (fresh and redelivered alerts) and
 * through the whole pipeline of figure 7, against the design's minimum.
 */
export const requestsPerAlert = defineFigure({
  ...figureHead(4, 'requests-per-alert', ['deliver', 'endToEnd'], 'requestsPerDeliveredAlert'),
  compute: (measured) => {
    const deliver = need(measured, 'deliver').rounds;
    const endToEnd = need(measured, 'endToEnd');
    const fresh = deliver.fresh;
    const writesPerAlert = perAlert((fresh.dynamodbRequests.PutItem ?? 0) + (fresh.dynamodbRequests.UpdateItem ?? 0), fresh.records);
    const wruPerWrite = Math.max(
      writeRequestUnits(measured.dynamodbCounts.maxRequestBytes.PutItem ?? 0),
      writeRequestUnits(measured.dynamodbCounts.maxRequestBytes.UpdateItem ?? 0),
    );
    /** Completing a delivery adds the item to the sparse `delivered-at` index: one more write unit. */
    const gsiWritesPerAlert = perAlert(fresh.dynamodbRequests.UpdateItem, fresh.records);
    const pipeline = endToEnd.throughputCounts;
    return {
      squadcastPostsPerAlert: perAlert(fresh.squadcastPosts, fresh.records),
      dynamodbRequestsPerAlert: perAlert(sumCounts(fresh.dynamodbRequests), fresh.records),
      dynamodbByOperation: Object.fromEntries(Object.entries(fresh.dynamodbRequests).map(([op, n]) => [op, n / fresh.records])),
      dynamodbDesignMinimum: 2,
      deliverSqsRequestsPerAlert: perAlert(sumCounts(fresh.sqsRequests), fresh.records),
      records: fresh.records,
      redelivered: {
        records: deliver.redelivered.records,
        squadcastPostsPerAlert: perAlert(deliver.redelivered.squadcastPosts, deliver.redelivered.records),
        dynamodbRequestsPerAlert: perAlert(sumCounts(deliver.redelivered.dynamodbRequests), deliver.redelivered.records),
        dynamodbByOperation: deliver.redelivered.dynamodbRequests,
      },
      pipeline: {
        alerts: pipeline.alerts,
        sqsRequestsPerAlert: Object.fromEntries(Object.entries(pipeline.sqsRequests).map(([op, n]) => [op, n / pipeline.alerts])),
        recordsPerReceive: pipeline.receivedMessages / pipeline.nonEmptyReceives,
        dynamodbRequestsPerAlert: perAlert(sumCounts(pipeline.dynamodbRequests), pipeline.alerts),
        squadcastPostsPerAlert: perAlert(pipeline.squadcastPosts, pipeline.alerts),
      },
      dynamodbWriteUnitsPerAlert: writesPerAlert * wruPerWrite + gsiWritesPerAlert,
    };
  },
  report: (requests) => [
    `4. Requests per delivered alert (${requests.records} fresh alerts through deliver)`,
    renderTable(
      ['what', 'measured', 'limit'],
      [
        ['Squadcast POSTs per alert', fixed(requests.squadcastPostsPerAlert), '1.00'],
        [
          `DynamoDB requests per alert (${Object.entries(requests.dynamodbByOperation)
            .map(([op, n]) => `${op} ${fixed(n)}`)
            .join(', ')})`,
          fixed(requests.dynamodbRequestsPerAlert),
          `${fixed(requests.dynamodbDesignMinimum)} (claim + complete)`,
        ],
        ['SQS requests by deliver per alert', fixed(requests.deliverSqsRequestsPerAlert), '0.00'],
        [
          `redelivered alert: DynamoDB requests (${Object.keys(requests.redelivered.dynamodbByOperation).join(', ')})`,
          fixed(requests.redelivered.dynamodbRequestsPerAlert),
          '1.00 (refused claim)',
        ],
        ['redelivered alert: Squadcast POSTs', fixed(requests.redelivered.squadcastPostsPerAlert), '0.00'],
        [
          `whole pipeline, SQS per alert (${Object.entries(requests.pipeline.sqsRequestsPerAlert)
            .map(([op, n]) => `${op} ${fixed(n, 3)}`)
            .join(', ')})`,
          fixed(sumCounts(requests.pipeline.sqsRequestsPerAlert), 3),
          '0.300 (send, receive, delete in tens)',
        ],
        ['whole pipeline, records per non-empty receive', fixed(requests.pipeline.recordsPerReceive, 1), '10.0'],
        ['DynamoDB write units per alert (incl. the delivered-at index)', fixed(requests.dynamodbWriteUnitsPerAlert), '3.00'],
      ],
    ),
  ],
});
