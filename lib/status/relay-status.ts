import * as t from 'io-ts';

const Count = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'count');

const DayCountCodec = t.type({
  /** UTC date, `YYYY-MM-DD`. */
  date: t.string,
  count: Count,
});
export type DayCount = t.TypeOf<typeof DayCountCodec>;

/**
 * The status function's answer: the one definition of its shape. The function builds it
 * (`readStatus`); the CLI and the local stack read it back from Lambda or HTTP and decode it
 * with this codec, never trusting it.
 */
export const RelayStatusCodec = t.type({
  source: t.literal('threatstack'),
  /** Squadcast's rule: an incident recorded in the last 30 days. */
  active: t.boolean,
  lastIncidentAt: t.union([t.string, t.null]),
  incidentsLast30Days: Count,
  /** Oldest first, CHART_DAYS entries, today (UTC) last. */
  incidentsPerDay: t.array(DayCountCodec),
  checkedAt: t.string,
  queue: t.type({
    /** Waiting, in flight or delayed in the alerts queue. */
    pending: Count,
    /** Waiting in the dead-letter queue. */
    deadLetter: Count,
  }),
  /** The facts above in one sentence, for a person reading the Lambda console. */
  summary: t.string,
});
export type RelayStatus = t.TypeOf<typeof RelayStatusCodec>;
