// infra/: what serverless.yml decides at package time (tests/infra/template.test.ts checks the packaged
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

/** The part of osls's `serverless` object the plugin reads and writes. */
interface FakeServerless {
  service: { custom?: Record<string, unknown>; provider: { compiledCloudFormationTemplate: { Resources: Record<string, unknown> } } };
}
type PluginClass = new (
  serverless: FakeServerless,
) => {
  hooks: Record<string, () => void>;
};

const AlarmEmailSubscription = require('../../infra/alarm-email-subscription.js') as PluginClass;

describe('the alarm email plugin (infra/alarm-email-subscription.js)', () => {
  const packageWith = (custom: Record<string, unknown> | undefined, resources: Record<string, unknown> = { AlarmTopic: {} }) => {
    const serverless: FakeServerless = {
      service: { custom, provider: { compiledCloudFormationTemplate: { Resources: { ...resources } } } },
    };
    const plugin = new AlarmEmailSubscription(serverless);
    const hook = plugin.hooks['after:aws:package:finalize:mergeCustomProviderResources'];
    if (hook === undefined) throw new Error('the plugin no longer hooks the end of the merge');
    hook();
    return serverless.service.provider.compiledCloudFormationTemplate.Resources;
  };

  it('adds the email subscription to the alarm topic when alarmEmail is set', () => {
    expect(packageWith({ alarmEmail: ' oncall@example.com ' }).AlarmEmailSubscription).toEqual({
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' },
    });
  });

  it.each<[string, Record<string, unknown> | undefined]>([
    ['empty (the default)', { alarmEmail: '' }],
    ['blank', { alarmEmail: '  ' }],
    ['missing', {}],
    ['without any custom section', undefined],
  ])('adds nothing when alarmEmail is %s', (_name, custom) => {
    expect(packageWith(custom)).toEqual({ AlarmTopic: {} });
  });

  it('fails the package rather than subscribe to a topic the template does not have', () => {
    expect(() => packageWith({ alarmEmail: 'oncall@example.com' }, {})).toThrow('the template has no AlarmTopic');
  });
});
