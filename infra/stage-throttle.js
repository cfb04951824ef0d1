// An osls plugin (serverless.yml `plugins`): API Gateway's stage-wide throttle, from the stage's
// settings apiThrottleRateLimit (requests a second) and apiThrottleBurstLimit. osls has no setting
// for it, and creates the stage through the AWS::ApiGateway::Deployment it writes (a new one every
// deploy), so the limits go on that deployment's StageDescription, applied to the stage each time.
// A call over the limit gets 429 before any Lambda runs; it counts in the stage's 4XXError, which
// WebhookRefusedSourceAlarm reads.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-apigateway-deployment-stagedescription.html

/** Whole numbers within what API Gateway accepts for a stage (its account quota is 10 000 a second). */
const stageThrottle = (settings) => {
  const read = (name, value, max) => {
    const n = /^\d+$/.test(String(value ?? '').trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new Error(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
  const rateLimit = read('apiThrottleRateLimit', settings?.rateLimit, 10_000);
  const burstLimit = read('apiThrottleBurstLimit', settings?.burstLimit, 5_000);
  if (burstLimit < rateLimit / 10) throw new Error('apiThrottleBurstLimit must be at least a tenth of apiThrottleRateLimit');
  return { rateLimit, burstLimit };
};

/** Sets the limits on the template's one API Gateway deployment (mutates the template). */
const applyStageThrottle = (template, throttle) => {
  const deployments = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::ApiGateway::Deployment');
  if (deployments.length !== 1) throw new Error(`stage throttle: expected one API Gateway deployment, found ${deployments.length}`);
  const [deployment] = deployments;
  deployment.Properties.StageDescription = {
    ...deployment.Properties.StageDescription,
    ThrottlingRateLimit: throttle.rateLimit,
    ThrottlingBurstLimit: throttle.burstLimit,
  };
};

class StageThrottle {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:initialize': () => this.throttle(),
      'after:aws:package:finalize:mergeCustomProviderResources': () =>
        applyStageThrottle(this.serverless.service.provider.compiledCloudFormationTemplate, this.throttle()),
    };
  }

  throttle() {
    try {
      return stageThrottle(this.serverless.service.custom?.apiThrottle);
    } catch (error) {
      throw new this.serverless.classes.Error(error.message);
    }
  }
}

StageThrottle.stageThrottle = stageThrottle;
StageThrottle.applyStageThrottle = applyStageThrottle;
module.exports = StageThrottle;
