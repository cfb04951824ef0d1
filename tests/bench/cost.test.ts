import { PRICES } from '../../bench/config';
import type { MeasuredDesign } from '../../bench/cost';
import { billedGbSeconds, costPerMillionAlerts, deliverDurationMs, usageOfDesign, usageWithoutBatching } from '../../bench/cost';

const measured: MeasuredDesign = {
  alertsPerPost: 10,
  ingestMs: 9.2,
  ingestSqsBilledPerAlert: 0.1,
  pollSqsBilledPerAlert: 0.2,
  recordsPerInvocation: 10,
  deliverOneRecordMs: 60,
  deliverTenRecordsMs: 105,
  dynamodbWriteUnitsPerAlert: 3,
  dynamodbReadUnitsPerAlert: 0,
  ingestMemoryMb: 256,
  deliverMemoryMb: 256,
};

describe('costPerMillionAlerts', () => {
  it('prices each service and sums them', () => {
    const cost = costPerMillionAlerts(
      { apiGatewayRequests: 1, lambdaRequests: 2, lambdaGbSeconds: 0.5, sqsBilledRequests: 3, dynamodbWriteUnits: 2, dynamodbReadUnits: 4 },
      PRICES,
    );
    expect(cost.apiGateway).toBeCloseTo(3.5, 10);
    expect(cost.lambda).toBeCloseTo(2 * 0.2 + 0.5 * 1e6 * 0.0000133334, 10);
    expect(cost.sqs).toBeCloseTo(1.2, 10);
    expect(cost.dynamodb).toBeCloseTo(2 * 0.625 + 4 * 0.125, 10);
    expect(cost.total).toBeCloseTo(cost.apiGateway + cost.lambda + cost.sqs + cost.dynamodb, 10);
  });
});

describe('billedGbSeconds', () => {
  it('rounds the duration up to the millisecond, times the memory in GB', () => {
    expect(billedGbSeconds(9.2, 256)).toBeCloseTo(0.01 * 0.25, 12);
    expect(billedGbSeconds(10, 1024)).toBeCloseTo(0.01, 12);
  });
});

describe('deliverDurationMs', () => {
  it('interpolates between the measured 1- and 10-record batches', () => {
    expect(deliverDurationMs(1, 60, 105)).toBe(60);
    expect(deliverDurationMs(10, 60, 105)).toBe(105);
    expect(deliverDurationMs(4, 60, 105)).toBe(75);
    expect(deliverDurationMs(25, 60, 105)).toBe(105);
  });
});

describe('the design against no batching', () => {
  it('counts one ingest invocation a POST and one deliver invocation a full batch', () => {
    const usage = usageOfDesign(measured);
    expect(usage.apiGatewayRequests).toBeCloseTo(0.1, 12);
    expect(usage.lambdaRequests).toBeCloseTo(0.2, 12);
    expect(usage.sqsBilledRequests).toBeCloseTo(0.3, 12);
    expect(usage.lambdaGbSeconds).toBeCloseTo((0.01 * 0.25) / 10 + (0.105 * 0.25) / 10, 12);
  });

  it('without batching: three SQS requests and one deliver invocation an alert, the rest unchanged', () => {
    const usage = usageWithoutBatching(measured);
    expect(usage.sqsBilledRequests).toBe(3);
    expect(usage.lambdaRequests).toBeCloseTo(1.1, 12);
    expect(usage.apiGatewayRequests).toBeCloseTo(0.1, 12);
    expect(usage.dynamodbWriteUnits).toBe(3);
    const design = costPerMillionAlerts(usageOfDesign(measured), PRICES);
    const unbatched = costPerMillionAlerts(usage, PRICES);
    expect(unbatched.total).toBeGreaterThan(design.total);
    expect(unbatched.dynamodb).toBe(design.dynamodb);
  });
});
