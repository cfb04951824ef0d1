import type { SQSBatchResponse } from 'aws-lambda';
import { InjectedFault, withInjectedFaults } from '../../local/fault-injection';

const ok = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });

const outcomes = async (rate: number, invocations: number) => {
  const calls = jest.fn(ok);
  const { handler } = withInjectedFaults(calls, rate);
  const results: string[] = [];
  for (let i = 0; i < invocations; i++) {
    const before = calls.mock.calls.length;
    const result = await handler({ Records: [] }).then(
      () => 'ok',
      (error: unknown) => (error instanceof InjectedFault ? 'fault' : 'other'),
    );
    results.push(result === 'fault' ? (calls.mock.calls.length > before ? 'lost-after' : 'crash-before') : result);
  }
  return results;
};

describe('withInjectedFaults (LOCAL_FAULT_DELIVER_FAILURE_RATE)', () => {
  it('fails ⌊N × rate⌋ of N invocations, spread evenly, alternating a crash before the handler and an answer lost after it', async () => {
    const results = await outcomes(0.25, 12);

    expect(results).toEqual(['ok', 'ok', 'ok', 'crash-before', 'ok', 'ok', 'ok', 'lost-after', 'ok', 'ok', 'ok', 'crash-before']);
  });

  it('is the same for every run: counted, not drawn', async () => {
    expect(await outcomes(0.06, 200)).toEqual(await outcomes(0.06, 200));
    expect((await outcomes(0.06, 200)).filter((r) => r !== 'ok')).toHaveLength(12);
  });

  it.each([0, -1, Number.NaN, 1.5])('a rate of %s injects nothing', async (rate) => {
    expect(withInjectedFaults(ok, rate).rate).toBe(0);
    expect(new Set(await outcomes(rate, 20))).toEqual(new Set(['ok']));
  });
});
