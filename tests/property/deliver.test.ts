import type { APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { Secret } from '../../lib/common/secret';
import { deliverBatch } from '../../lib/delivery/deliver-batch';
import type { SendOutcome } from '../../lib/delivery/send-outcome';
import type { SquadcastIncident } from '../../lib/incident/to-incident';
import { handleIngestEvent } from '../../lib/ingest/handle-ingest-event';
import type { AlertVersion, ClaimResult, DeliveryLedger, Lease } from '../../lib/ledger/ledger';
import { createSqsQueue } from '../../lib/queue/sqs-queue';
import { validAlert } from '../helpers/alert-arbitraries';
import { silentLogger } from '../helpers/delivery-simulation';
import { anAllowlist, anIngestEvent } from '../helpers/factories';
import { inertDeliverDeps, noMetrics } from '../helpers/fakes';
import { sqsRulesClient } from '../helpers/sqs-rules-client';

/**
 * Whatever ingest puts on the alerts queue, deliver can deliver or dead-letter at once: never a
 * message that fails on every attempt until SQS redrives it hours later. Ingest and deliver run
 * for real; SQS and DynamoDB are stand-ins that apply their documented limits.
 */
const TOKEN = 'property-token-0123456789abcdef';
const ALERTS_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-alerts';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-dead-letter';
/** Squadcast refuses a body over 30 KB with 413. */
const SQUADCAST_MAX_BYTES = 30 * 1024;

/** DynamoDB refuses a partition key over 2048 bytes with ValidationException. */
class KeyLimitedLedger implements DeliveryLedger {
  readonly states = new Map<string, 'in-flight' | 'delivered' | 'failed'>();

  async claim(version: AlertVersion): Promise<ClaimResult> {
    const { alertId } = version;
    if (Buffer.byteLength(`alert#${alertId}`, 'utf8') > 2048)
      throw Object.assign(new Error('Size of hashkey has exceeded the maximum size limit of 2048 bytes'), { name: 'ValidationException' });
    if (this.states.get(alertId) === 'delivered') return { kind: 'already-delivered' };
    this.states.set(alertId, 'in-flight');
    return { kind: 'claimed', lease: { version, token: 't', until: Number.POSITIVE_INFINITY } };
  }

  async complete(lease: Lease): Promise<void> {
    this.states.set(lease.version.alertId, 'delivered');
  }

  async release(lease: Lease): Promise<void> {
    this.states.set(lease.version.alertId, 'failed');
  }
}

const allowlist = anAllowlist();

/** Ids as Threat Stack sends them, and far longer than it ever does. */
const alertId = fc.oneof(
  fc.uuid(),
  fc.stringMatching(/^[0-9a-f]{24}$/),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }).filter((s) => s.trim() !== ''),
  fc.tuple(fc.integer({ min: 100, max: 3_000 }), fc.constantFrom('x', 'é', '€', '\u{1F525}')).map(([n, c]) => c.repeat(n)),
);

test('every alert ingest queues becomes one incident under 30 KB, keyed on its id, or a dead letter SQS accepts, at the first attempt', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(validAlert, alertId, fc.boolean()), { minLength: 1, maxLength: 8 }), async (rows) => {
      const sqs = sqsRulesClient();
      const noWait = { sleep: async () => undefined };
      const alerts = rows.map(([alert, id]) => ({ ...alert, id }));
      const response: APIGatewayProxyResult = await handleIngestEvent(
        anIngestEvent({ token: TOKEN, body: JSON.stringify({ alerts }) }),
        async () => ({
          allowlist,
          token: new Secret(TOKEN),
          alerts: createSqsQueue(sqs.client, ALERTS_URL, noWait),
          deadLetters: createSqsQueue(sqs.client, DLQ_URL, noWait),
          log: silentLogger,
          metrics: noMetrics,
          now: () => new Date(0),
        }),
        silentLogger,
      );
      expect(response.statusCode).toBe(200);
      const bodies = sqs.bodies.get(ALERTS_URL) ?? [];

      // Squadcast refuses the alerts marked so with 413; the others are accepted.
      const refusedIds = new Set(rows.filter(([, , refuse]) => refuse).map(([, id]) => id));
      const incidents: SquadcastIncident[] = [];
      const ledger = new KeyLimitedLedger();
      const result = await deliverBatch(
        bodies.map((body, i) => ({ messageId: `m${i}`, receiptHandle: `r${i}`, body, receiveCount: 1 })),
        {
          ...inertDeliverDeps(),
          sink: {
            send: async (incident): Promise<SendOutcome> => {
              incidents.push(incident);
              return refusedIds.has(incident.event_id)
                ? { kind: 'permanent', reason: 'Squadcast answered 413', failure: 'refused' }
                : { kind: 'delivered', status: 200 };
            },
          },
          ledger,
          deadLetters: createSqsQueue(sqs.client, DLQ_URL, noWait),
          retries: { retryAfter: async () => undefined },
          retryPolicy: { baseSeconds: 1, maxSeconds: 2, giveUpSeconds: 86_400, inFlightSeconds: 1 },
          concurrency: 4,
          log: silentLogger,
          now: () => new Date(0),
        },
      );
      expect(result.outcomes.map((o) => o.kind).filter((kind) => kind !== 'delivered' && kind !== 'dead-lettered')).toEqual([]);
      expect(sqs.refused).toEqual([]);
      for (const incident of incidents)
        expect(Buffer.byteLength(JSON.stringify(incident), 'utf8')).toBeLessThanOrEqual(SQUADCAST_MAX_BYTES);
      // Each queued alert was sent once, under the id ingest chose (its own, or one derived when too long for the ledger).
      const queuedIds = bodies.map((body) => (JSON.parse(body) as { alertId: string }).alertId);
      expect(new Set(queuedIds).size).toBe(
        new Set(alerts.map((alert) => (alert.id.length <= 256 ? alert.id : `derived ${JSON.stringify(alert)}`))).size,
      );
      expect(incidents.map((incident) => incident.event_id).sort()).toEqual([...queuedIds].sort());
    }),
    { numRuns: 150 },
  );
});
