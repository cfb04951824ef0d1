import { readStageSettings, regionFor } from '../../scripts/stage-settings';

/** The stage settings of serverless.yml, as the operator commands read them, and the region they choose. */
describe('readStageSettings', () => {
  it("reads serverless.yml's params: the defaults, then the stage's own section", () => {
    expect(readStageSettings('ci')).toMatchObject({ region: 'us-east-1', alarmEmail: 'none', squadcastMaxPerMinute: '150' });
    expect(readStageSettings('rehearsal').alarmEmail).toBe('alarms@example.com');
    // prod names no alarm destination in the repository: it must be set before the first deploy.
    expect(readStageSettings('prod').alarmEmail).toBe('');
    expect(readStageSettings('a-stage-nobody-configured').region).toBe('us-east-1');
  });
});

describe('regionFor', () => {
  const settings = () => ({ region: 'eu-central-1' });

  it('takes --region first, then the SDK’s own settings, then the region the stage is deployed to, and says which', async () => {
    expect(await regionFor('ap-south-1', 'prod', async () => 'us-west-2', settings)).toEqual({ region: 'ap-south-1', from: '--region' });
    expect(await regionFor(undefined, 'prod', async () => 'us-west-2', settings)).toEqual({
      region: 'us-west-2',
      from: 'your AWS settings (AWS_REGION or the profile)',
    });
    expect(await regionFor(undefined, 'prod', async () => undefined, settings)).toEqual({
      region: 'eu-central-1',
      from: 'serverless.yml params, where stage prod is deployed',
    });
  });

  it('fails, saying what to do, when there is none at all', async () => {
    await expect(
      regionFor(
        undefined,
        'prod',
        async () => undefined,
        () => ({}),
      ),
    ).rejects.toThrow('no region for stage prod: pass --region, or set region in serverless.yml params');
  });
});
