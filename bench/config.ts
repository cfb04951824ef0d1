/**
 * Benchmark settings: rounds, sizes, targets, and the AWS list prices the cost figure uses.
 * Rounds are sized so that `npm run bench` takes a few minutes on a 2-core machine.
 */
export const BENCH = {
  /** Figure 1: batch sizes posted to ingest, and invocations per size (counts are per alert). */
  ingestBatchSizes: [1, 7, 10, 100, 1000],
  ingestRoundsPerSize: 5,
  /** Figure 2: paired rounds (handler vs bare SendMessageBatch), after warm-up rounds. */
  overheadBatchSize: 100,
  overheadWarmupRounds: 10,
  overheadRounds: 31,
  /** Figure 3: the fake Squadcast's answer delay, and paired rounds (10-record vs 1-record batch). */
  squadcastDelayMs: 50,
  deliverWarmupRounds: 5,
  deliverRounds: 21,
  /**
   * deliver paces its POSTs (SQUADCAST_MAX_PER_MINUTE, 150 a minute by default, shared by the
   * containers). Figures 3, 4 and 7 measure the delivery path itself with the ceiling lifted to
   * this; figure 3 also times a first batch under the configured ceiling, in fresh containers.
   */
  liftedCeilingPerMinute: 1_000_000,
  firstBatchRuns: 3,
  /** Figure 5: fresh Node processes per bundle (real and bare alternate). */
  coldStartRuns: 21,
  /**
   * Figure 6: batch sizes for peak RSS, one fresh process each, up to the largest ingest takes; then
   * the worst case, tiny alerts (`{"id":"<n>"}`) at MAX_ALERTS_PER_REQUEST, and one more (refused).
   */
  memoryBatchSizes: [100, 1000, 2000, 'largest-accepted'] as const,
  /** Figure 7: alerts pushed as fast as the webhook takes them, then a steady offered load. */
  endToEndAlertsPerPost: 10,
  endToEndThroughputAlerts: 3000,
  endToEndSenders: 4,
  endToEndLatencySeconds: 10,
  /** Offered load for the latency phase, as a fraction of the throughput just measured. */
  endToEndLatencyLoadFraction: 0.5,
} as const;

/** Targets from the issue: a ratio at or under the target passes. */
export const TARGETS = {
  ingestOverhead: 1.25,
  /** Figure 3: a 10-record batch ÷ a 1-record batch, and the handler's 10-record batch ÷ the bare minimum's. */
  deliveryParallelism: 1.5,
  deliveryVsBare: 1.1,
  /** Figure 5: load + init ÷ a bare bundle with the same clients, those it imports for later (SSM) included. */
  coldStart: 1.1,
  squadcastPostsPerAlert: 1,
  /** Figure 4: claim + complete + the delivered-at index entry, each under 1 KB. */
  dynamodbWriteUnitsPerAlert: 3,
  /** Figure 6: peak RSS growth per byte of body, and the relay's JSON reader ÷ native JSON.parse on any body. */
  peakRssBytesPerBodyByte: 10,
  parseJsonVsNative: 2,
} as const;

/**
 * AWS list prices, us-east-1, first pricing tier, free tiers ignored. Looked up on 2026-11-27
 * through the `search` tool (stored copies of public pages; no live browsing was possible):
 * - API Gateway REST: $3.50 per million calls (first 333 M a month). AWS whitepaper
 *   "Best Practices for Designing Amazon API Gateway Private APIs", table 4; aws.amazon.com/api-gateway/pricing/
 * - SQS standard: $0.40 per million requests (1 M to 100 B a month); every started 64 KiB of payload is
 *   billed as one request. aws.amazon.com/sqs/pricing/ (as quoted by cloudburn.io, March 2026, and unanswered.io)
 * - Lambda arm64: $0.0000133334 per GB-second (first 7.5 B GB-s a month) and $0.20 per million requests.
 *   aws.amazon.com/lambda/pricing/ (as quoted by cloudchipr.com and a Lambda cost guide)
 * - DynamoDB on demand: $0.625 per million write request units, $0.125 per million read request units,
 *   after the 50 % cut of 1 November 2024. aws.amazon.com/dynamodb/pricing/on-demand/ (as quoted by airbyte.com, July 2025)
 * Check them against the AWS pricing pages before quoting a figure to anyone.
 */
export const PRICES = {
  lookedUp: '2026-11-27',
  region: 'us-east-1',
  apiGatewayRestPerMillion: 3.5,
  sqsStandardPerMillionRequests: 0.4,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  dynamodbPerMillionWriteUnits: 0.625,
  dynamodbPerMillionReadUnits: 0.125,
} as const;
export type Prices = typeof PRICES;
