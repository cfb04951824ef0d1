// An osls plugin (serverless.yml `plugins`): adds the alarm topic's email subscription to the
// template only when `--param="alarmEmail=..."` is given. Whether to subscribe an address is known
// at package time, so it is decided then: the template holds no condition on a constant
// (cfn-lint W8003). The logical id is the one the resource had under that condition, so a stack
// deployed with an email keeps its confirmed subscription.
// Plugin hooks: https://www.serverless.com/framework/docs/guides/plugins/creating-plugins

/** The subscription resource for `email`, or undefined when none is set. */
const alarmEmailSubscription = (email) => {
  const address = typeof email === 'string' ? email.trim() : '';
  if (address === '') return undefined;
  return {
    Type: 'AWS::SNS::Subscription',
    Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: address },
  };
};

class AlarmEmailSubscription {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      // After serverless.yml's own resources are merged in, before the template is written.
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.addSubscription(),
    };
  }

  addSubscription() {
    const resource = alarmEmailSubscription(this.serverless.service.custom?.alarmEmail);
    if (resource === undefined) return;
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    if (resources.AlarmTopic === undefined) throw new Error('AlarmEmailSubscription: the template has no AlarmTopic');
    resources.AlarmEmailSubscription = resource;
  }
}

AlarmEmailSubscription.alarmEmailSubscription = alarmEmailSubscription;
module.exports = AlarmEmailSubscription;
