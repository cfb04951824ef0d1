/**
 * infra/alarm-destination.js, the osls plugin that decides where alarms go (tests/infra/template.test.ts
 * checks the packaged template of the ci stage; this covers every destination and every refusal).
 */
interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown }>;
}
type Destination = { kind: 'email'; addresses: string[] } | { kind: 'topic'; arn: string } | { kind: 'none' } | Error;
interface FakeServerless {
  service: { custom?: Record<string, unknown>; provider: { stage: string; compiledCloudFormationTemplate: Template } };
  classes: { Error: new (message: string) => Error };
  cli: { log(line: string): void };
}
interface Plugin {
  new (serverless: FakeServerless, options: { stage?: string }): { hooks: Record<string, () => unknown> };
  alarmDestination(settings: Record<string, unknown>, stage: string): Destination;
  applyAlarmDestination(template: Template, destination: Destination): string;
}

const AlarmDestination = require('../../infra/alarm-destination.js') as Plugin;

const alarm = (): Resource => ({ Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'M' } });
const aTemplate = (): Template => ({
  Resources: { AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: {} }, OneAlarm: alarm(), TwoAlarm: alarm() },
  Outputs: { AlarmTopicArn: { Value: { Ref: 'AlarmTopic' } } },
});

describe('alarmDestination: what the stage settings name', () => {
  it.each<[string, Record<string, unknown>, Destination]>([
    ['one address', { alarmEmail: ' oncall@example.com ' }, { kind: 'email', addresses: ['oncall@example.com'] }],
    [
      'several, with a repeat',
      { alarmEmail: 'a@example.com, b@example.org,a@example.com' },
      { kind: 'email', addresses: ['a@example.com', 'b@example.org'] },
    ],
    [
      'a topic',
      { alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:pager-duty' },
      { kind: 'topic', arn: 'arn:aws:sns:eu-west-1:123456789012:pager-duty' },
    ],
    ['an explicit opt-out', { alarmEmail: 'NONE' }, { kind: 'none' }],
  ])('%s', (_name, settings, destination) => {
    expect(AlarmDestination.alarmDestination(settings, 'prod')).toEqual(destination);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['nothing', {}, 'stage prod has no alarm destination: set alarmEmail (one or more addresses, comma-separated) or alarmTopicArn'],
    ['blanks', { alarmEmail: '  ', alarmTopicArn: '' }, 'stage prod has no alarm destination'],
    ['both', { alarmEmail: 'a@example.com', alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:t' }, 'not both'],
    ['a bad address', { alarmEmail: 'a@example.com, oncall' }, 'alarmEmail entry 2 is not an email address'],
    ['a queue ARN for a topic', { alarmTopicArn: 'arn:aws:sqs:us-east-1:123456789012:q' }, 'alarmTopicArn is not an SNS topic ARN'],
  ])('refuses %s, naming the settings', (_name, settings, message) => {
    const result = AlarmDestination.alarmDestination(settings, 'prod');
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toContain(message);
  });
});

describe('applyAlarmDestination: every alarm notifies the topic in use, and its recovery', () => {
  it('emails: one subscription per address on AlarmTopic, the first under its old logical id', () => {
    const template = aTemplate();
    const said = AlarmDestination.applyAlarmDestination(template, { kind: 'email', addresses: ['a@example.com', 'b@example.org'] });
    expect(said).toBe('2 alarms notify AlarmTopic, emailed to 2 addresses');
    expect(template.Resources.AlarmEmailSubscription?.Properties).toEqual({
      TopicArn: { Ref: 'AlarmTopic' },
      Protocol: 'email',
      Endpoint: 'a@example.com',
    });
    expect(template.Resources.AlarmEmailSubscription2?.Properties).toMatchObject({ Endpoint: 'b@example.org' });
    for (const id of ['OneAlarm', 'TwoAlarm'])
      expect(template.Resources[id]?.Properties).toMatchObject({
        AlarmActions: [{ Ref: 'AlarmTopic' }],
        OKActions: [{ Ref: 'AlarmTopic' }],
      });
  });

  it('a topic: AlarmTopic is not created, every alarm and the output name the given ARN', () => {
    const template = aTemplate();
    const arn = 'arn:aws:sns:us-east-1:123456789012:pager';
    AlarmDestination.applyAlarmDestination(template, { kind: 'topic', arn });
    expect(template.Resources.AlarmTopic).toBeUndefined();
    expect(template.Outputs?.AlarmTopicArn?.Value).toBe(arn);
    for (const id of ['OneAlarm', 'TwoAlarm'])
      expect(template.Resources[id]?.Properties).toMatchObject({ AlarmActions: [arn], OKActions: [arn] });
  });

  it('none: AlarmTopic without a subscriber, and the package log says so', () => {
    const template = aTemplate();
    expect(AlarmDestination.applyAlarmDestination(template, { kind: 'none' })).toBe(
      '2 alarms notify AlarmTopic, with no subscriber (alarmEmail: none)',
    );
    expect(Object.keys(template.Resources).filter((id) => id.startsWith('AlarmEmailSubscription'))).toEqual([]);
  });

  it('overrides actions written by hand: no alarm can point elsewhere', () => {
    const template = aTemplate();
    (template.Resources.OneAlarm as Resource).Properties.AlarmActions = ['arn:aws:sns:us-east-1:123456789012:somewhere-else'];
    AlarmDestination.applyAlarmDestination(template, { kind: 'none' });
    expect(template.Resources.OneAlarm?.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
  });
});

describe('the plugin in osls', () => {
  const run = (custom: Record<string, unknown>) => {
    const lines: string[] = [];
    const serverless: FakeServerless = {
      service: { custom, provider: { stage: 'prod', compiledCloudFormationTemplate: aTemplate() } },
      classes: { Error },
      cli: { log: (line) => lines.push(line) },
    };
    const plugin = new AlarmDestination(serverless, { stage: 'prod' });
    for (const hook of ['before:package:initialize', 'after:aws:package:finalize:mergeCustomProviderResources']) plugin.hooks[hook]?.();
    return { template: serverless.service.provider.compiledCloudFormationTemplate, lines };
  };

  it('fails packaging before anything is built when the stage names no destination', () => {
    expect(() => run({ alarmEmail: '' })).toThrow('stage prod has no alarm destination');
  });

  it('applies the destination after the resources are merged, and logs what it did', () => {
    const { template, lines } = run({ alarmEmail: 'oncall@example.com' });
    expect(template.Resources.AlarmEmailSubscription).toBeDefined();
    expect(lines).toEqual(['Alarm destination: 2 alarms notify AlarmTopic, emailed to 1 address']);
  });
});
