// An osls plugin (serverless.yml `plugins`): where every alarm goes, decided at package time from
// the stage's settings (serverless.yml `params`), so that no stage is deployed with alarms nobody
// receives. Exactly one destination per stage:
//   alarmEmail: a@x.com,b@y.com  the stack's AlarmTopic, with one email subscription per address
//   alarmTopicArn: arn:aws:sns:…  an existing SNS topic (a pager, AWS Chatbot, a Squadcast service's
//                                 Amazon SNS alert source); AlarmTopic is then not created
//   alarmEmail: none             a throwaway stage: AlarmTopic with no subscriber, said out loud
// Packaging a stage with none of them fails, naming the settings. Every AWS::CloudWatch::Alarm gets
// AlarmActions and OKActions to the topic in use: an alarm added later cannot be left out.
// The first subscription keeps the logical id it had before (AlarmEmailSubscription), so a stack
// deployed with one email keeps its confirmed subscription.
// Plugin hooks: https://www.serverless.com/framework/docs/guides/plugins/creating-plugins

const SETTINGS_HINT =
  "set alarmEmail (one or more addresses, comma-separated) or alarmTopicArn (an existing SNS topic's ARN) " +
  "in the stage's section of serverless.yml `params`, or alarmEmail: none for a throwaway stage";

/** An address as SNS's email protocol takes it: no spaces, one @, a dot in the domain. */
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
/** arn:<partition>:sns:<region>:<account>:<topic> */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

const text = (value) => (typeof value === 'string' ? value.trim() : value === undefined || value === null ? '' : String(value).trim());

/**
 * The destination the settings name, or an Error that says what is wrong (never guessing).
 * @returns {{ kind: 'email', addresses: string[] } | { kind: 'topic', arn: string } | { kind: 'none' } | Error}
 */
const alarmDestination = (settings, stage) => {
  const email = text(settings.alarmEmail);
  const topicArn = text(settings.alarmTopicArn);
  const where = `stage ${stage}`;
  if (email !== '' && topicArn !== '')
    return new Error(`${where}: set alarmEmail or alarmTopicArn, not both (alarms go to one destination)`);
  if (topicArn !== '') {
    if (!TOPIC_ARN.test(topicArn))
      return new Error(`${where}: alarmTopicArn is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`);
    return { kind: 'topic', arn: topicArn };
  }
  if (email.toLowerCase() === 'none') return { kind: 'none' };
  if (email === '') return new Error(`${where} has no alarm destination: ${SETTINGS_HINT}`);
  const addresses = email
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
  const bad = addresses.findIndex((address) => !EMAIL.test(address));
  if (bad >= 0) return new Error(`${where}: alarmEmail entry ${bad + 1} is not an email address`);
  return { kind: 'email', addresses: [...new Set(addresses)] };
};

/** Applies the destination to a compiled template (mutates it); returns what it did, for the package log. */
const applyAlarmDestination = (template, destination) => {
  const resources = template.Resources;
  if (resources.AlarmTopic === undefined) throw new Error('alarm destination: the template has no AlarmTopic');
  const topic = destination.kind === 'topic' ? destination.arn : { Ref: 'AlarmTopic' };
  if (destination.kind === 'topic') {
    delete resources.AlarmTopic;
    if (template.Outputs?.AlarmTopicArn !== undefined) template.Outputs.AlarmTopicArn.Value = destination.arn;
  }
  if (destination.kind === 'email') {
    destination.addresses.forEach((address, i) => {
      resources[i === 0 ? 'AlarmEmailSubscription' : `AlarmEmailSubscription${i + 1}`] = {
        Type: 'AWS::SNS::Subscription',
        Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: address },
      };
    });
  }
  const alarms = Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm');
  for (const [, alarm] of alarms) {
    alarm.Properties.AlarmActions = [topic];
    alarm.Properties.OKActions = [topic];
  }
  const to =
    destination.kind === 'topic'
      ? destination.arn
      : destination.kind === 'email'
        ? `AlarmTopic, emailed to ${destination.addresses.length} address${destination.addresses.length === 1 ? '' : 'es'}`
        : 'AlarmTopic, with no subscriber (alarmEmail: none)';
  return `${alarms.length} alarms notify ${to}`;
};

class AlarmDestination {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.stage = options?.stage ?? serverless.service.provider.stage;
    this.hooks = {
      // Checked first, so that a stage without a destination fails before anything is built.
      'before:package:initialize': () => this.destination(),
      // After serverless.yml's own resources are merged in, before the template is written.
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.apply(),
    };
  }

  destination() {
    const destination = alarmDestination(this.serverless.service.custom ?? {}, this.stage);
    if (destination instanceof Error) throw new this.serverless.classes.Error(destination.message);
    return destination;
  }

  apply() {
    const said = applyAlarmDestination(this.serverless.service.provider.compiledCloudFormationTemplate, this.destination());
    this.serverless.cli?.log?.(`Alarm destination: ${said}`);
  }
}

AlarmDestination.alarmDestination = alarmDestination;
AlarmDestination.applyAlarmDestination = applyAlarmDestination;
module.exports = AlarmDestination;
