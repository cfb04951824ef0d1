import { readMetricsConfig } from '../config/env';
import type { Telemetry } from '../telemetry/telemetry';
import { createTelemetry } from '../telemetry/telemetry';

/** What a handler gets from its composition root: its dependencies and its telemetry. */
export interface FunctionRuntime<Deps> {
  /**
   * Built on first use and kept for the container's life (a secret is fetched then); a failure is
   * not kept, so the next invocation tries again.
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
