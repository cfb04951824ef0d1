import type { Prices } from './config';

/** What one alert costs in billable units, averaged over a workload. */
export interface UsagePerAlert {
  readonly apiGatewayRequests: number;
  readonly lambdaRequests: number;
  readonly lambdaGbSeconds: number;
  readonly sqsBilledRequests: number;
  readonly dynamodbWriteUnits: number;
  readonly dynamodbReadUnits: number;
}

export interface CostPerMillion {
  readonly apiGateway: number;
  readonly lambda: number;
  readonly sqs: number;
  readonly dynamodb: number;
  readonly total: number;
}

/** List price of a million alerts, in US dollars, by service. */
export const costPerMillionAlerts = (usage: UsagePerAlert, prices: Prices): CostPerMillion => {
  const apiGateway = usage.apiGatewayRequests * prices.apiGatewayRestPerMillion;
  const lambda = usage.lambdaRequests * prices.lambdaPerMillionRequests + usage.lambdaGbSeconds * 1e6 * prices.lambdaArmPerGbSecond;
  const sqs = usage.sqsBilledRequests * prices.sqsStandardPerMillionRequests;
  const dynamodb =
    usage.dynamodbWriteUnits * prices.dynamodbPerMillionWriteUnits + usage.dynamodbReadUnits * prices.dynamodbPerMillionReadUnits;
  return { apiGateway, lambda, sqs, dynamodb, total: apiGateway + lambda + sqs + dynamodb };
};

/** Lambda bills duration rounded up to the millisecond, times the configured memory. */
export const billedGbSeconds = (durationMs: number, memoryMb: number): number => (Math.ceil(durationMs) / 1000) * (memoryMb / 1024);

/** A deliver invocation's duration for `records` records, interpolated from measured 1- and 10-record batches. */
export const deliverDurationMs = (records: number, oneRecordMs: number, tenRecordsMs: number): number =>
  oneRecordMs + ((Math.min(records, 10) - 1) * (tenRecordsMs - oneRecordMs)) / 9;

/** Measurements the cost figure is computed from (all per alert unless named otherwise). */
export interface MeasuredDesign {
  readonly alertsPerPost: number;
  /** Median ingest handler time for one POST of `alertsPerPost` alerts. */
  readonly ingestMs: number;
  readonly ingestSqsBilledPerAlert: number;
  /** Event source mapping: non-empty ReceiveMessage and DeleteMessageBatch, billed, per delivered alert. */
  readonly pollSqsBilledPerAlert: number;
  /** Records per deliver invocation (messages received / non-empty receives). */
  readonly recordsPerInvocation: number;
  readonly deliverOneRecordMs: number;
  readonly deliverTenRecordsMs: number;
  readonly dynamodbWriteUnitsPerAlert: number;
  readonly dynamodbReadUnitsPerAlert: number;
  readonly ingestMemoryMb: number;
  readonly deliverMemoryMb: number;
}

/** This relay: SendMessageBatch at ingest, batches of records per deliver invocation. */
export const usageOfDesign = (m: MeasuredDesign): UsagePerAlert => ({
  apiGatewayRequests: 1 / m.alertsPerPost,
  lambdaRequests: 1 / m.alertsPerPost + 1 / m.recordsPerInvocation,
  lambdaGbSeconds:
    billedGbSeconds(m.ingestMs, m.ingestMemoryMb) / m.alertsPerPost +
    billedGbSeconds(deliverDurationMs(m.recordsPerInvocation, m.deliverOneRecordMs, m.deliverTenRecordsMs), m.deliverMemoryMb) /
      m.recordsPerInvocation,
  sqsBilledRequests: m.ingestSqsBilledPerAlert + m.pollSqsBilledPerAlert,
  dynamodbWriteUnits: m.dynamodbWriteUnitsPerAlert,
  dynamodbReadUnits: m.dynamodbReadUnitsPerAlert,
});

/**
 * The same relay without batching, for comparison: one SendMessage per alert at ingest, and
 * batch size 1 downstream (one ReceiveMessage, one DeleteMessage and one invocation per alert).
 * Ingest time and the DynamoDB ledger are taken as equal to this design's.
 */
export const usageWithoutBatching = (m: MeasuredDesign): UsagePerAlert => ({
  apiGatewayRequests: 1 / m.alertsPerPost,
  lambdaRequests: 1 / m.alertsPerPost + 1,
  lambdaGbSeconds:
    billedGbSeconds(m.ingestMs, m.ingestMemoryMb) / m.alertsPerPost + billedGbSeconds(m.deliverOneRecordMs, m.deliverMemoryMb),
  sqsBilledRequests: 3,
  dynamodbWriteUnits: m.dynamodbWriteUnitsPerAlert,
  dynamodbReadUnits: m.dynamodbReadUnitsPerAlert,
});
