import { createTestAlertRuntime } from '../lib/runtime/test-alert-runtime';
import { instrumented } from '../lib/telemetry/telemetry';
import type { TestAlertResult } from '../lib/test-alert/test-alert';
import { sendTestAlert } from '../lib/test-alert/test-alert';

const runtime = createTestAlertRuntime(process.env);

/** Invoked from the AWS console or `npm run test-alert`; event `{}` or `{"severity": 1|2|3}` (default 3). */
export const handler = instrumented(
  runtime.telemetry,
  async (event: unknown): Promise<TestAlertResult> => sendTestAlert(event, await runtime.deps()),
);
