import type { DeadLetterWatchResult } from '../lib/dead-letter-watch/watch-dead-letters';
import { watchDeadLetters } from '../lib/dead-letter-watch/watch-dead-letters';
import { createDeadLetterWatchRuntime } from '../lib/runtime/dead-letter-watch-runtime';
import { instrumented } from '../lib/telemetry/telemetry';

const runtime = createDeadLetterWatchRuntime(process.env);

/** Every hour (an EventBridge schedule), or from the console: the oldest dead letter's age; the event is ignored. */
export const handler = instrumented(
  runtime.telemetry,
  async (_event: unknown): Promise<DeadLetterWatchResult> => watchDeadLetters(await runtime.deps()),
);
