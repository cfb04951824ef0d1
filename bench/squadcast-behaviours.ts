import type { FakeSquadcast, Responder } from '../devkit/fake-squadcast';

/**
 * How the bench's fake Squadcast (devkit/fake-squadcast.ts) answers: 202 to everything (the
 * default); 503 to everything (Squadcast down); or a share of faults at random, a third each: 500,
 * 429 (half of them with Retry-After: 1), and no answer for `hangMs` (longer than the relay's
 * SQUADCAST_TIMEOUT_MS: a timeout, nothing created).
 */
export type FakeBehaviour =
  | { readonly kind: 'accept' }
  | { readonly kind: 'down' }
  | { readonly kind: 'faults'; readonly rate: number; readonly random: () => number; readonly hangMs: number };

export const behaving = (behaviour: FakeBehaviour): Responder => {
  if (behaviour.kind === 'accept') return () => ({ status: 202 });
  if (behaviour.kind === 'down') return () => ({ status: 503 });
  return () => {
    const roll = behaviour.random();
    const third = behaviour.rate / 3;
    if (roll < third) return { status: 500 };
    if (roll < 1.5 * third) return { status: 429, headers: { 'retry-after': '1' } };
    if (roll < 2 * third) return { status: 429 };
    if (roll < behaviour.rate) return { status: 503, delayMs: behaviour.hangMs };
    return { status: 202 };
  };
};

/** When Squadcast accepted `eventId` (`performance.now()` of each 2xx: two mean it was sent twice). */
export const incidentTimes = (squadcast: FakeSquadcast, eventId: string): number[] =>
  squadcast.acceptedFor(eventId).map((request) => request.answeredAt ?? Number.NaN);
