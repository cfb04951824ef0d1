import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** Thrown by an injected fault; the poller treats it like any failed invocation. */
export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

/**
 * Local fault injection, for the conservation tests only: `LOCAL_FAULT_DELIVER_FAILURE_RATE`
 * (0 to 1) is the share of deliver invocations that fail, spread evenly and counted, not drawn at
 * random: invocation n fails when n × rate passes a whole number, so a run of N invocations has
 * ⌊N × rate⌋ faults whatever the machine's speed. They alternate between failing before the handler
 * runs (a crash at start: the batch comes back after the visibility timeout) and after it returned
 * (its answer is lost, as when Lambda times out: the whole batch, delivered records included, comes
 * back). Never read by lib/ or handlers/.
 */
export const withInjectedFaults = (handler: SqsHandler, rate: number): { handler: SqsHandler; rate: number } => {
  if (!(rate > 0 && rate <= 1)) return { handler, rate: 0 };
  let invocations = 0;
  let faults = 0;
  return {
    rate,
    handler: async (event) => {
      invocations += 1;
      const fails = Math.floor(invocations * rate) > faults;
      if (!fails) return handler(event);
      faults += 1;
      if (faults % 2 === 1) throw new InjectedFault('deliver failed before it ran');
      await handler(event);
      throw new InjectedFault('deliver answer lost after it ran');
    },
  };
};
