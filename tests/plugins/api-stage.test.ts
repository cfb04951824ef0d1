/** infra/api-stage.js: the API's stage as a resource of its own, with the stage settings' throttle. */
interface StageTemplate {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
}
interface Plugin {
  stageThrottle(settings: unknown): { rateLimit: number; burstLimit: number };
  applyApiStage(template: StageTemplate, throttle: { rateLimit: number; burstLimit: number }): void;
  stageSettingsOfOsls(provider: unknown): string[];
  STAGE_LOGICAL_ID: string;
}

const ApiStage = require('../../infra/api-stage.js') as Plugin;

describe('stageThrottle', () => {
  it('reads whole numbers (params are strings)', () => {
    expect(ApiStage.stageThrottle({ rateLimit: '50', burstLimit: ' 100 ' })).toEqual({ rateLimit: 50, burstLimit: 100 });
  });

  it.each<[unknown, string]>([
    [{ rateLimit: '0', burstLimit: '100' }, 'apiThrottleRateLimit must be a whole number from 1 to 10000'],
    [{ rateLimit: '5.5', burstLimit: '100' }, 'apiThrottleRateLimit must be a whole number'],
    [{ rateLimit: '50', burstLimit: 'lots' }, 'apiThrottleBurstLimit must be a whole number from 1 to 5000'],
    [{ rateLimit: '1000', burstLimit: '10' }, 'apiThrottleBurstLimit must be at least a tenth of apiThrottleRateLimit'],
    [undefined, 'apiThrottleRateLimit'],
  ])('refuses %p, naming the setting', (settings, message) => {
    expect(() => ApiStage.stageThrottle(settings)).toThrow(message);
  });
});

describe('applyApiStage', () => {
  const osls = (): StageTemplate => ({
    Resources: {
      ApiGatewayRestApi: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'prod-relay' } },
      ApiGatewayDeployment123: {
        Type: 'AWS::ApiGateway::Deployment',
        Properties: { RestApiId: { Ref: 'ApiGatewayRestApi' }, StageName: 'prod', StageDescription: { Description: 'x' } },
      },
    },
  });

  it('takes the stage off the deployment and gives it a Stage resource that follows the deployment, with the throttle', () => {
    const template = osls();
    ApiStage.applyApiStage(template, { rateLimit: 50, burstLimit: 100 });
    expect(template.Resources.ApiGatewayDeployment123?.Properties).toEqual({ RestApiId: { Ref: 'ApiGatewayRestApi' } });
    expect(template.Resources[ApiStage.STAGE_LOGICAL_ID]).toEqual({
      Type: 'AWS::ApiGateway::Stage',
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        RestApiId: { Ref: 'ApiGatewayRestApi' },
        StageName: 'prod',
        DeploymentId: { Ref: 'ApiGatewayDeployment123' },
        MethodSettings: [{ ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }],
      },
    });
  });

  it('fails the package when there is not exactly one deployment, or it names no stage', () => {
    expect(() => ApiStage.applyApiStage({ Resources: {} }, { rateLimit: 1, burstLimit: 1 })).toThrow(
      'expected one API Gateway deployment, found 0',
    );
    const nameless = osls();
    delete nameless.Resources.ApiGatewayDeployment123?.Properties.StageName;
    expect(() => ApiStage.applyApiStage(nameless, { rateLimit: 1, burstLimit: 1 })).toThrow('ApiGatewayDeployment123 names no stage');
  });
});

describe('stageSettingsOfOsls', () => {
  it('names every provider setting with which osls would change the stage through the API after a deploy', () => {
    expect(ApiStage.stageSettingsOfOsls({})).toEqual([]);
    expect(
      ApiStage.stageSettingsOfOsls({
        tags: { team: 'secops' },
        stackTags: { a: 'b' },
        logs: { restApi: true },
        tracing: { apiGateway: false },
        apiGateway: { metrics: true },
      }),
    ).toEqual([
      'provider.tags',
      'provider.stackTags',
      'provider.logs.restApi',
      'provider.tracing.apiGateway',
      'provider.apiGateway.metrics',
    ]);
  });
});
