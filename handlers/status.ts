import { readStatus } from '../lib/status/read-status';
import type { RelayStatus } from '../lib/status/read-status';
import { createStatusRuntime } from '../lib/runtime/status-runtime';

const deps = createStatusRuntime(process.env);

/** Invoked from the AWS console or `serverless invoke -f status`; the event is ignored. */
export const handler = (): Promise<RelayStatus> => readStatus(deps);
