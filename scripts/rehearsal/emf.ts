/**
 * Embedded Metric Format: the JSON log lines from which CloudWatch takes the relay's own metrics.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** One value of one metric at one time. */
export interface Datapoint {
  readonly namespace: string;
  readonly name: string;
  /** Dimension name -> value, exactly the dimension set the value was published under. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly atMs: number;
  readonly value: number;
}

interface EmfDocument {
  readonly _aws?: {
    readonly Timestamp?: number;
    readonly CloudWatchMetrics?: ReadonlyArray<{
      readonly Namespace: string;
      readonly Dimensions: ReadonlyArray<readonly string[]>;
      readonly Metrics: ReadonlyArray<{ readonly Name: string }>;
    }>;
  };
  readonly [key: string]: unknown;
}

/** The datapoints one EMF line publishes: one per metric, dimension set and value. `atMs` overrides its Timestamp (a simulated clock). */
export const parseEmf = (line: string, atMs?: number): Datapoint[] => {
  let doc: EmfDocument;
  try {
    doc = JSON.parse(line) as EmfDocument;
  } catch {
    return [];
  }
  const directives = doc._aws?.CloudWatchMetrics;
  if (directives === undefined) return [];
  const at = atMs ?? Number(doc._aws?.Timestamp);
  return directives.flatMap((directive) =>
    directive.Dimensions.flatMap((dimensionSet) => {
      const dimensions = Object.fromEntries(dimensionSet.map((name) => [name, String(doc[name])]));
      return directive.Metrics.flatMap((metric) => {
        const raw = doc[metric.Name];
        const values = Array.isArray(raw) ? raw : [raw];
        return values
          .filter((value): value is number => typeof value === 'number')
          .map((value) => ({ namespace: directive.Namespace, name: metric.Name, dimensions, atMs: at, value }));
      });
    }),
  );
};
