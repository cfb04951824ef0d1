// infra/package-time.js: what serverless.yml decides at package time (tests/infra/template.test.ts checks the packaged
// template; this covers the cases one package cannot).
interface Context {
  resolveConfigurationProperty(path: readonly string[]): Promise<unknown>;
}
interface PackageTime {
  allowedSourceIps(context: Context): Promise<string>;
}

const packageTime = require('../../infra/package-time.js') as PackageTime;

/** A configuration with one property set: what osls's resolveConfigurationProperty answers. */
const configuration = (path: string, value: unknown): Context => ({
  resolveConfigurationProperty: async (asked) => (asked.join('.') === path ? value : undefined),
});

describe('allowedSourceIps', () => {
  it('joins custom.allowedSourceIps with commas, trimmed, in order', async () => {
    const context = configuration('custom.allowedSourceIps', ['52.20.173.142', ' 2001:db8::/32 ', '10.0.0.0/8']);
    expect(await packageTime.allowedSourceIps(context)).toBe('52.20.173.142,2001:db8::/32,10.0.0.0/8');
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['empty', []],
    ['a string, not a list', '52.20.173.142'],
    ['holding an empty entry', ['52.20.173.142', ' ']],
    ['holding a number', [52]],
  ])('refuses a list that is %s, failing the package', async (_name, value) => {
    await expect(packageTime.allowedSourceIps(configuration('custom.allowedSourceIps', value))).rejects.toThrow(
      'custom.allowedSourceIps must be a non-empty list',
    );
  });
});
