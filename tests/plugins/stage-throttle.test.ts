/** infra/stage-throttle.js: API Gateway's stage throttle, from the stage settings, on osls's deployment. */
interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}
interface Plugin {
  stageThrottle(settings: unknown): { rateLimit: number; burstLimit: number };
  applyStageThrottle(template: Template, throttle: { rateLimit: number; burstLimit: number }): void;
}

const StageThrottle = require('../../infra/stage-throttle.js') as Plugin;

describe('stageThrottle', () => {
  it('reads whole numbers (params are strings)', () => {
    expect(StageThrottle.stageThrottle({ rateLimit: '50', burstLimit: ' 100 ' })).toEqual({ rateLimit: 50, burstLimit: 100 });
  });

  it.each<[unknown, string]>([
    [{ rateLimit: '0', burstLimit: '100' }, 'apiThrottleRateLimit must be a whole number from 1 to 10000'],
    [{ rateLimit: '5.5', burstLimit: '100' }, 'apiThrottleRateLimit must be a whole number'],
    [{ rateLimit: '50', burstLimit: 'lots' }, 'apiThrottleBurstLimit must be a whole number from 1 to 5000'],
    [{ rateLimit: '1000', burstLimit: '10' }, 'apiThrottleBurstLimit must be at least a tenth of apiThrottleRateLimit'],
    [undefined, 'apiThrottleRateLimit'],
  ])('refuses %p, naming the setting', (settings, message) => {
    expect(() => StageThrottle.stageThrottle(settings)).toThrow(message);
  });
});

describe('applyStageThrottle', () => {
  it("puts the limits on the deployment's StageDescription, keeping what was there", () => {
    const template: Template = {
      Resources: {
        ApiGatewayDeployment123: {
          Type: 'AWS::ApiGateway::Deployment',
          Properties: { StageName: 'prod', StageDescription: { Description: 'x' } },
        },
      },
    };
    StageThrottle.applyStageThrottle(template, { rateLimit: 50, burstLimit: 100 });
    expect(template.Resources.ApiGatewayDeployment123?.Properties.StageDescription).toEqual({
      Description: 'x',
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: 100,
    });
  });

  it('fails the package when there is not exactly one deployment to put them on', () => {
    expect(() => StageThrottle.applyStageThrottle({ Resources: {} }, { rateLimit: 1, burstLimit: 1 })).toThrow(
      'expected one API Gateway deployment, found 0',
    );
  });
});
