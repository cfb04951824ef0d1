import { decodeWith, valueOrThrow } from '../lib/common/checked';
import { createStatusRuntime } from '../lib/runtime/status-runtime';
import { readStatus } from '../lib/status/read-status';
import type { RelayStatus } from '../lib/status/relay-status';
import { StatusRequestCodec } from '../lib/status/relay-status';
import { instrumented } from '../lib/telemetry/telemetry';

const runtime = createStatusRuntime(process.env);

/**
 * Invoked from the AWS console or `serverless invoke -f status`: `{}` (or any event without
 * `alertId`) for the status, `{"alertId": "<id>"}` for that alert's record as well.
 */
export const handler = instrumented(runtime.telemetry, async (event: unknown): Promise<RelayStatus> => {
  const request = valueOrThrow(
    decodeWith(StatusRequestCodec, event ?? {}),
    (problems) => new Error(`invalid request: ${problems.join('; ')} (send {} for the status, or {"alertId": "<id>"})`),
  );
  return readStatus(await runtime.deps(), request);
});
