import * as t from 'io-ts';

const Count = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'count');

const DayCountCodec = t.type({
  /** UTC date, `YYYY-MM-DD`. */
  date: t.string,
  count: Count,
});
export type DayCount = t.TypeOf<typeof DayCountCodec>;

/** An alert id to look up: non-empty, and no longer than any id the relay keeps (ingest's limit is far below). */
const AlertId = t.refinement(t.string, (id) => id.length > 0 && id.length <= 1_024, 'a non-empty alert id of 1024 characters or fewer');

/**
 * What the status function accepts: nothing (the Lambda console's test event, `{}`), or one alert id
 * to report on as well (`npm run test-alert`, `smoke --test-alert`, `dead-letters`). Other keys are ignored.
 */
export const StatusRequestCodec = t.partial({ alertId: AlertId });
export type StatusRequest = t.TypeOf<typeof StatusRequestCodec>;

/** What the ledger says of the alert asked about; `not-recorded` when deliver has not tried it yet (or TTL removed it). */
export const AlertStatusCodec = t.intersection([
  t.type({
    id: t.string,
    state: t.union([
      t.literal('delivered'),
      t.literal('in-flight'),
      t.literal('failed'),
      t.literal('dead-lettered'),
      t.literal('not-recorded'),
    ]),
  }),
  t.partial({ deliveredAt: t.string, failingSince: t.string, lastFailure: t.string }),
]);
export type AlertStatus = t.TypeOf<typeof AlertStatusCodec>;

/**
 * The status function's answer: the one definition of its shape. The function builds it
 * (`readStatus`); the CLI and the local stack read it back from Lambda or HTTP and decode it
 * with this codec, never trusting it.
 */
export const RelayStatusCodec = t.intersection([
  t.type({
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
  }),
  t.partial({
    /** deliver's ceiling: the queue drains at most this many alerts a minute. */
    squadcastMaxPerMinute: Count,
    /** Only when the request named an alert id. */
    alert: AlertStatusCodec,
  }),
]);
export type RelayStatus = t.TypeOf<typeof RelayStatusCodec>;
