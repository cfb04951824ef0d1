import { createTestAlertRuntime } from '../lib/runtime/test-alert-runtime';
import { sendTestAlert } from '../lib/test-alert/test-alert';
import type { TestAlertResult } from '../lib/test-alert/test-alert';

const deps = createTestAlertRuntime(process.env);

/** Invoked from the AWS console or `npm run test-alert`; event `{}` or `{"severity": 1|2|3}` (default 3). */
export const handler = (event: unknown): Promise<TestAlertResult> => sendTestAlert(event, deps);
