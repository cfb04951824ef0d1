// An osls plugin (serverless.yml `plugins`): the API's stage as a resource of its own, with the stage's
// throttle (apiThrottleRateLimit requests a second, apiThrottleBurstLimit above it) from the stage
// settings. A call over the throttle gets 429 before any Lambda runs; it counts in the stage's
// 4XXError, which WebhookRefusedSourceAlarm reads.
//
// Why a resource of its own. osls writes a new AWS::ApiGateway::Deployment on every package (its
// logical id ends in a timestamp) and lets it create the stage through StageName. CloudFormation refuses
// a new Deployment that carries a StageDescription for a stage that already exists ("StageDescription
// cannot be specified when stage referenced by StageName already exists"), so the throttle cannot live
// there: every deploy after the first would fail.
// https://github.com/jacob-meacham/serverless-plugin-bind-deployment-id#known-issues
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-apigateway-deployment-stagedescription.html
// Instead the Deployment creates no stage, and an AWS::ApiGateway::Stage points at it by Ref: each deploy
// creates a new Deployment, moves the stage to it (an update of the stage, which keeps its settings),
// and deletes the old one in the cleanup phase. The throttle is the stage's MethodSettings for every
// resource and method (/* and *).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-stage.html
// The alternatives: a post-deploy UpdateStage call (serverless-api-gateway-throttling) puts the stage's
// settings outside CloudFormation (drift, and an unthrottled window after each first deploy) and needs
// API Gateway writes by the deploy identity; the stage resource needs neither.
//
// osls changes a stage itself after a deploy (its hack/update-stage.js, with the deploy identity) when
// provider.tags, stackTags, logs.restApi, tracing.apiGateway or apiGateway.metrics is set; it would fight
// this resource, so packaging refuses them.

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

/** The logical id the stage resource gets (osls's own name for it, where it makes one). */
const STAGE_LOGICAL_ID = 'ApiGatewayStage';

/** The provider settings that make osls change the stage through the API after a deploy. */
const stageSettingsOfOsls = (provider) =>
  [
    ['provider.tags', provider?.tags],
    ['provider.stackTags', provider?.stackTags],
    ['provider.logs.restApi', provider?.logs?.restApi],
    ['provider.tracing.apiGateway', provider?.tracing?.apiGateway],
    ['provider.apiGateway.metrics', provider?.apiGateway?.metrics],
  ]
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name]) => name);

/** Moves the stage off the template's one Deployment onto a Stage resource with the throttle (mutates the template). */
const applyApiStage = (template, throttle) => {
  const deployments = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::ApiGateway::Deployment');
  if (deployments.length !== 1) throw new Error(`API stage: expected one API Gateway deployment, found ${deployments.length}`);
  const [[deploymentId, deployment]] = deployments;
  const { StageName: stageName, StageDescription: _description, ...rest } = deployment.Properties;
  if (typeof stageName !== 'string' || stageName === '') throw new Error(`API stage: ${deploymentId} names no stage`);
  deployment.Properties = rest;
  template.Resources[STAGE_LOGICAL_ID] = {
    Type: 'AWS::ApiGateway::Stage',
    DeletionPolicy: 'Delete',
    UpdateReplacePolicy: 'Delete',
    Properties: {
      RestApiId: deployment.Properties.RestApiId,
      StageName: stageName,
      DeploymentId: { Ref: deploymentId },
      MethodSettings: [
        { ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit },
      ],
    },
  };
};

class ApiStage {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:initialize': () => this.checked(),
      'after:aws:package:finalize:mergeCustomProviderResources': () =>
        applyApiStage(this.serverless.service.provider.compiledCloudFormationTemplate, this.checked()),
    };
  }

  checked() {
    const refused = stageSettingsOfOsls(this.serverless.service.provider);
    if (refused.length > 0)
      throw new this.serverless.classes.Error(
        `${refused.join(', ')}: osls would change the API stage outside CloudFormation after each deploy (infra/api-stage.js); leave ${refused.length === 1 ? 'it' : 'them'} unset`,
      );
    try {
      return stageThrottle(this.serverless.service.custom?.apiThrottle);
    } catch (error) {
      throw new this.serverless.classes.Error(error.message);
    }
  }
}

ApiStage.stageThrottle = stageThrottle;
ApiStage.applyApiStage = applyApiStage;
ApiStage.stageSettingsOfOsls = stageSettingsOfOsls;
ApiStage.STAGE_LOGICAL_ID = STAGE_LOGICAL_ID;
module.exports = ApiStage;
