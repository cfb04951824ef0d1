import { writeUnits } from '../../devkit/dynamodb-item-size';
import { TARGETS } from '../config';
import { fixed, renderTable, verdict } from '../report';
import { sumCounts } from '../stats';
import { defineFigure, figureHead, lower, need, perAlert } from './figure';

/**
 * Figure 4: requests per delivered alert, by deliver alone (fresh and redelivered alerts) and
 * through the whole pipeline of figure 7, against the design's minimum.
 */
export const requestsPerAlert = defineFigure({
  ...figureHead(4, 'requests-per-alert', ['deliver', 'endToEnd'], 'requestsPerDeliveredAlert'),
  compute: (measured) => {
    const { rounds: deliver, ledger } = need(measured, 'deliver');
    const endToEnd = need(measured, 'endToEnd');
    const fresh = deliver.fresh;
    const writesPerAlert = perAlert((fresh.dynamodbRequests.PutItem ?? 0) + (fresh.dynamodbRequests.UpdateItem ?? 0), fresh.records);
    // Each table write is billed on the larger of the item before and after it: at most the largest item the run left.
    const unitsPerTableWrite = writeUnits(ledger.maxItemBytes);
    // A delivered alert's item enters the sparse `delivered-at` index once (when its delivery is recorded).
    const unitsPerIndexEntry = writeUnits(ledger.maxIndexEntryBytes);
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
      ledger,
      dynamodbWriteUnitsPerAlert: writesPerAlert * unitsPerTableWrite + ledger.indexedShare * unitsPerIndexEntry,
      writeUnitsTarget: TARGETS.dynamodbWriteUnitsPerAlert,
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
          // DynamoDB returns the old item with the refused put, which settles a redelivery; dynalite does not, so here the
          // take-over is tried (refused too) and the item read: 3 requests where AWS needs 1.
          '1.00 in AWS (refused put; 3 on dynalite)',
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
    `   ledger items as DynamoDB sizes them (${requests.ledger.items} items): p50 ${fixed(requests.ledger.p50ItemBytes, 0)} B, ` +
      `largest ${requests.ledger.maxItemBytes} B; largest index entry ${requests.ledger.maxIndexEntryBytes} B; ` +
      `write units ${fixed(requests.dynamodbWriteUnitsPerAlert)}, target ≤ ${requests.writeUnitsTarget}: ` +
      verdict(requests.dynamodbWriteUnitsPerAlert, requests.writeUnitsTarget),
  ],
  headlines: (requests) => [
    lower('DynamoDB requests per delivered alert', requests.dynamodbRequestsPerAlert),
    lower('DynamoDB write units per delivered alert', requests.dynamodbWriteUnitsPerAlert),
    lower('largest ledger item, bytes', requests.ledger.maxItemBytes, 0),
    lower('Squadcast POSTs per delivered alert', requests.squadcastPostsPerAlert),
  ],
});
