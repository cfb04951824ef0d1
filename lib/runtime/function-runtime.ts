import { readMetricsConfig } from '../config/env';
import type { Telemetry } from '../telemetry/telemetry';
import { createTelemetry } from '../telemetry/telemetry';

/** What a handler gets from its composition root: its dependencies and its telemetry. */
export interface FunctionRuntime<Deps> {
  /**
   * Asked once per invocation. Clients and config are built once per container; secrets are read
   * each time through a cache (SECRETS_MAX_AGE_SECONDS), so a rotated one is used without a redeploy.
   * A failure is not kept: the next invocation tries again.
   */
  readonly deps: () => Promise<Deps>;
  readonly telemetry: Telemetry;
}

export interface RuntimeOptions {
  /** Tests pass their own (a logger that collects lines); a container creates one. */
  readonly telemetry?: Telemetry;
}

/** The function's telemetry: the one given, or one named after the function, from the environment. */
export const telemetryFor = (functionName: string, env: NodeJS.ProcessEnv, options: RuntimeOptions): Telemetry =>
  options.telemetry ?? createTelemetry(functionName, readMetricsConfig(env));
