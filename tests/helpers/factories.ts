/**
 * Typed builders for the relay's inputs: Threat Stack alerts and webhook bodies, API Gateway
 * REST (v1) events, SQS records; and the status object the `status` function answers. Each
 * returns a fresh object; pass overrides for what a test is about.
 */
import type { APIGatewayProxyEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Alert } from '../../lib/alert/codec';
import type { ReadAlert } from '../../lib/alert/read-alert';
import { readAlert } from '../../lib/alert/read-alert';
import type { QueueRecord } from '../../lib/delivery/record-outcome';
import type { SourceAllowlist } from '../../lib/ingest/source-allowlist';
import { parseAllowlist, THREAT_STACK_SOURCE_IPS } from '../../lib/ingest/source-allowlist';
import { chartDays, summarizeStatus } from '../../lib/status/read-status';
import type { RelayStatus } from '../../lib/status/relay-status';
import restEventFixture from '../fixtures/api-gateway-rest-event.json';
import sqsEventFixture from '../fixtures/sqs-event.json';

/** A Threat Stack source address (in the default allowlist). */
export const THREAT_STACK_IP = '52.20.173.142';
/** A valid webhook token (16..256 URL-safe characters). */
export const TEST_WEBHOOK_TOKEN = 'test-webhook-token-0123456789';
/** A value that must never come back in a response, a problem, an error message or a log line. */
export const SENTINEL = 'SENTINEL-7f3a9c-must-never-be-echoed';

/** The fixtures are typed against the aws-lambda types here: a drift in the JSON fails `tsc`. */
const REST_EVENT: APIGatewayProxyEvent = restEventFixture;
const SQS_RECORD: SQSRecord | undefined = (sqsEventFixture satisfies SQSEvent).Records[0];

/** An allowlist of `entries` (Threat Stack's addresses by default); a test with a bad list fails at once. */
export const anAllowlist = (entries: readonly string[] = THREAT_STACK_SOURCE_IPS): SourceAllowlist => {
  const parsed = parseAllowlist(entries);
  if (parsed.kind === 'invalid') throw new Error(`expected a valid allowlist: ${parsed.problems.join('; ')}`);
  return parsed.value;
};

let sequence = 0;
/** A fresh, unique alert id in Threat Stack's time-based UUID format. */
export const nextAlertId = (): string => `7c1e2f30-1a2b-11ee-8c90-${String(++sequence).padStart(12, '0')}`;

/** A decoded alert (the usual batched shape: numbers as numbers). Unknown extra fields may be added. */
export const anAlert = (overrides: Partial<Alert> & Readonly<Record<string, unknown>> = {}): Alert => ({
  id: nextAlertId(),
  title: 'Host:  sudo to root by unexpected user',
  created_at: 1_700_000_000_123,
  severity: 1,
  organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
  server_or_region: 'web-1.example.internal',
  source: 'Host',
  ...overrides,
});

/** An alert as raw JSON, for the decoders: any field may be wrong, missing (`undefined` removes it) or extra. */
export const aRawAlert = (overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> => {
  const raw: Record<string, unknown> = { ...anAlert(), ...overrides };
  for (const [key, value] of Object.entries(raw)) if (value === undefined) delete raw[key];
  return raw;
};

/** When the relay received the alerts read by `aReadAlert`. */
export const RECEIVED_AT = new Date('2023-11-14T22:13:21.000Z');

/** An alert as the relay reads it (`readAlert`), from `anAlert(overrides)`; `undefined` removes a field. */
export const aReadAlert = (overrides: Readonly<Record<string, unknown>> = {}, receivedAt = RECEIVED_AT): ReadAlert =>
  readAlert(aRawAlert(overrides), { receivedAt });

/** `{"alerts": [...]}` as Threat Stack posts it. */
export const aBatchBody = (alerts: readonly unknown[]): string => JSON.stringify({ alerts });

export interface IngestEventOptions {
  /** The `{token}` path parameter; `null` removes it. */
  readonly token?: string | null;
  /** `requestContext.identity.sourceIp`: the TCP peer as API Gateway saw it. */
  readonly sourceIp?: string;
  /** A string is sent as is; anything else is JSON-encoded; `null` means no body. */
  readonly body?: unknown;
  readonly isBase64Encoded?: boolean;
  /** Merged over the fixture's headers (single and multi-value). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An API Gateway REST API (v1 payload) event for `POST /threatstack/{token}`, from tests/fixtures. */
export const anIngestEvent = (options: IngestEventOptions = {}): APIGatewayProxyEvent => {
  const event = structuredClone(REST_EVENT);
  const token = options.token === undefined ? TEST_WEBHOOK_TOKEN : options.token;
  const body = options.body === undefined ? aBatchBody([anAlert()]) : options.body;
  const headers = options.headers ?? {};
  return {
    ...event,
    path: `/threatstack/${token ?? ''}`,
    pathParameters: token === null ? null : { token },
    headers: { ...event.headers, ...headers },
    multiValueHeaders: { ...event.multiValueHeaders, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) },
    body: body === null ? null : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: options.isBase64Encoded ?? false,
    requestContext: {
      ...event.requestContext,
      path: `/prod/threatstack/${token ?? ''}`,
      identity: { ...event.requestContext.identity, sourceIp: options.sourceIp ?? THREAT_STACK_IP },
    },
  };
};

/** The body of a message on the alerts queue, as ingest writes it (the alert as received, its id, the receive time). */
export const aQueuedAlertBody = (alert: Alert = anAlert(), receivedAt = '2023-11-14T22:13:21.000Z'): string =>
  JSON.stringify({ alert, alertId: alert.id, receivedAt });

let messageSequence = 0;

/** A received alerts-queue message, as deliver sees it. Defaults to a valid queued alert, first receive. */
export const aQueueRecord = (overrides: Partial<QueueRecord> & { readonly alert?: Alert } = {}): QueueRecord => {
  const { alert, ...rest } = overrides;
  const n = ++messageSequence;
  return {
    messageId: `message-${n}`,
    receiptHandle: `receipt-${n}`,
    body: aQueuedAlertBody(alert),
    receiveCount: 1,
    ...rest,
  };
};

/** A Lambda SQS event record (tests/fixtures/sqs-event.json). */
export const anSqsRecord = (
  overrides: {
    readonly messageId?: string;
    readonly body?: string;
    readonly receiptHandle?: string;
    readonly receiveCount?: string;
    /** SQS's SentTimestamp (epoch ms); the fixture's is in 2023, so an alert that fails gives up at once. */
    readonly sentTimestamp?: string;
  } = {},
): SQSRecord => {
  if (SQS_RECORD === undefined) throw new Error('tests/fixtures/sqs-event.json has no record');
  const record = structuredClone(SQS_RECORD);
  const n = ++messageSequence;
  return {
    ...record,
    messageId: overrides.messageId ?? `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    receiptHandle: overrides.receiptHandle ?? `receipt-${n}`,
    body: overrides.body ?? aQueuedAlertBody(),
    attributes: {
      ...record.attributes,
      ApproximateReceiveCount: overrides.receiveCount ?? record.attributes.ApproximateReceiveCount,
      SentTimestamp: overrides.sentTimestamp ?? record.attributes.SentTimestamp,
    },
  };
};

export const anSqsEvent = (records: readonly SQSRecord[]): SQSEvent => ({ Records: [...records] });

/** When the factory's statuses are checked, and the last day of their chart: a fixed clock. */
export const STATUS_CHECKED_AT = '2023-11-14T22:13:20.000Z';

export type StatusFields = Partial<Omit<RelayStatus, 'summary' | 'incidentsPerDay'>> & {
  /** Incidents on some UTC days of the chart (`YYYY-MM-DD`); the other days have none. */
  readonly perDay?: Readonly<Record<string, number>>;
};

/**
 * A status object as the `status` function answers it: active, 5 incidents in 30 days (4 on
 * the day it is checked, 1 on 2023-11-01), 2 dead letters, unless `fields` says otherwise. The
 * chart covers the 30 UTC days up to STATUS_CHECKED_AT; the summary is computed from the rest.
 */
export const aRelayStatus = (fields: StatusFields = {}): RelayStatus => {
  const { perDay = { '2023-11-14': 4, '2023-11-01': 1 }, ...overrides } = fields;
  const base = {
    source: 'threatstack' as const,
    active: true,
    lastIncidentAt: '2023-11-14T20:00:00.000Z',
    incidentsLast30Days: 5,
    checkedAt: STATUS_CHECKED_AT,
    queue: { pending: 0, deadLetter: 2 },
    ...overrides,
    incidentsPerDay: chartDays(new Date(STATUS_CHECKED_AT)).map((date) => ({ date, count: perDay[date] ?? 0 })),
  };
  return { ...base, summary: summarizeStatus(base) };
};
