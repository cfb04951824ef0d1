import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** Thrown by an injected fault; the poller treats it like any failed invocation. */
export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

/**
 * Local fault injection, for the conservation tests only: `LOCAL_FAULT_DELIVER_FAILURE_RATE`
 * (0 to 1) is the share of deliver invocations that fail. Half fail before the handler runs
 * (a crash at start: the batch comes back after the visibility timeout), half after it returned
 * (its answer is lost, as when Lambda times out: the whole batch, delivered records included,
 * comes back). Never read by lib/ or handlers/.
 */
export const withInjectedFaults = (
  handler: SqsHandler,
  rateText: string | undefined,
  random: () => number = Math.random,
): { handler: SqsHandler; rate: number } => {
  const rate = Number(rateText ?? '0');
  if (!(rate > 0 && rate <= 1)) return { handler, rate: 0 };
  return {
    rate,
    handler: async (event) => {
      const roll = random();
      if (roll < rate / 2) throw new InjectedFault('deliver failed before it ran');
      const response = await handler(event);
      if (roll < rate) throw new InjectedFault('deliver answer lost after it ran');
      return response;
    },
  };
};
