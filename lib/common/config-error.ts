/**
 * A configuration error names the key and what was expected, never the value. Thrown at cold
 * start (or when a secret is first read), so that a bad setting fails loudly and at once.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}
