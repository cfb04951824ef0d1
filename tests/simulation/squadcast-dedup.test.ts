import type { Alert } from '../../lib/alert/codec';
import { deliverBatch } from '../../lib/delivery/deliver-batch';
import type { DeliverDeps } from '../../lib/delivery/record-outcome';
import { anAlert, aQueueRecord } from '../helpers/factories';
import { CapturingLogger, FakeLedger, FakeMessageQueue, FakeRetryScheduler, inertDeliverDeps } from '../helpers/fakes';
import { DEDUP_WINDOW_MS, KeyBasedDeduplication } from '../helpers/squadcast-dedup';

/**
 * The relay's event_id against a model of Squadcast's Key-Based Deduplication on event_id (the setup
 * the operator guide recommends): a changed alert opens its own incident, which the deduplication
 * cannot fold into the earlier one; an identical resend (the crash window: Squadcast answered, the
 * ledger never recorded it) still folds.
 */
const HOUR = 3_600_000;

const setup = () => {
  const squadcast = new KeyBasedDeduplication();
  const ledger = new FakeLedger();
  let now = 0;
  const answers: string[] = [];
  const deps: DeliverDeps = {
    ...inertDeliverDeps(),
    sink: {
      send: async (incident) => {
        answers.push(squadcast.receive(incident, now));
        return { kind: 'delivered', status: 202 };
      },
    },
    ledger,
    deadLetters: new FakeMessageQueue(),
    retries: new FakeRetryScheduler(),
    retryPolicy: { baseSeconds: 2, maxSeconds: 300, giveUpSeconds: 86_400, inFlightSeconds: 45 },
    concurrency: 1,
    log: new CapturingLogger(),
    now: () => new Date(now),
    random: () => 0.5,
  };
  const deliver = async (alert: Alert, at: number) => {
    now = at;
    await deliverBatch([aQueueRecord({ alert })], deps);
    return answers.at(-1);
  };
  /** The crash window: Squadcast took it, the record was never written, and the claim's lease ran out. */
  const crashAfterSquadcast = async (alert: Alert, at: number) => {
    ledger.completeError = new Error('process died');
    const answer = await deliver(alert, at);
    ledger.completeError = undefined;
    const { token: _lost, ...entry } = ledger.entries.get(alert.id) ?? { state: 'failed' as const };
    ledger.entries.set(alert.id, { ...entry, state: entry.deliveredAt ? 'delivered' : 'failed' });
    return answer;
  };
  return { squadcast, deliver, crashAfterSquadcast };
};

describe("event_id and Squadcast's key-based deduplication", () => {
  const first = anAlert({ id: 'ts-1', severity: 3, title: 'Host: odd login' });
  const raised = { ...first, severity: 1 as const };

  it('the finding: a severity raised from 3 to 1 opens its own incident, not folded into the open one', async () => {
    const { squadcast, deliver } = setup();
    expect(await deliver(first, 0)).toBe('opened');
    expect(await deliver(raised, HOUR)).toBe('opened');
    expect(squadcast.incidents.map((i) => [i.key, i.events[0]?.priority])).toEqual([
      ['ts-1', 'P3'],
      [expect.stringMatching(/^ts-1~[0-9a-f]{12}$/), 'P1'],
    ]);
  });

  it('an identical resend after a crash folds into its incident, for the first version and for a changed one', async () => {
    const { squadcast, deliver, crashAfterSquadcast } = setup();
    expect(await crashAfterSquadcast(first, 0)).toBe('opened');
    expect(await deliver(first, 60_000)).toBe('folded');
    expect(await crashAfterSquadcast(raised, HOUR)).toBe('opened');
    expect(await deliver(raised, HOUR + 60_000)).toBe('folded');
    expect(squadcast.incidents.map((i) => i.events.length)).toEqual([2, 2]);
  });

  it('every version carries the alert_id tag: an operator finds them all to resolve them', async () => {
    const { squadcast, deliver } = setup();
    await deliver(first, 0);
    await deliver(raised, HOUR);
    await deliver({ ...raised, title: 'Host: odd login (again)' }, 2 * HOUR);
    expect(squadcast.withTag('alert_id', 'ts-1')).toHaveLength(3);
    expect(new Set(squadcast.incidents.map((i) => i.key)).size).toBe(3);
  });

  it('outside the 48-hour window, even an identical resend opens another incident: what the guide warns of', async () => {
    const { squadcast, crashAfterSquadcast, deliver } = setup();
    await crashAfterSquadcast(first, 0);
    expect(await deliver(first, DEDUP_WINDOW_MS + 1)).toBe('opened');
    expect(squadcast.incidents).toHaveLength(2);
  });
});
