import * as t from 'io-ts';
import type { RelayStatus } from './read-status';

const Count = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'count');

/** The status function's answer, as the CLI reads it back from Lambda: decoded, never trusted. */
export const RelayStatusCodec = t.type({
  source: t.literal('threatstack'),
  active: t.boolean,
  lastIncidentAt: t.union([t.string, t.null]),
  incidentsLast30Days: Count,
  incidentsPerDay: t.array(t.type({ date: t.string, count: Count })),
  checkedAt: t.string,
  queue: t.type({ pending: Count, deadLetter: Count }),
  summary: t.string,
});

// Fails to compile if the codec and the type drift apart.
export const isRelayStatus = (value: t.TypeOf<typeof RelayStatusCodec>): RelayStatus => value;
