import { createStatusRuntime } from '../lib/runtime/status-runtime';
import { readStatus } from '../lib/status/read-status';
import type { RelayStatus } from '../lib/status/relay-status';
import { instrumented } from '../lib/telemetry/telemetry';

const runtime = createStatusRuntime(process.env);

/** Invoked from the AWS console or `serverless invoke -f status`; the event is ignored. */
export const handler = instrumented(runtime.telemetry, async (_event: unknown): Promise<RelayStatus> => readStatus(await runtime.deps()));
