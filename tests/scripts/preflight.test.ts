import type { LambdaQuota, PreflightDeps } from '../../scripts/preflight';
import { run } from '../../scripts/preflight';
import { captureIo } from './io';

/** `npm run preflight`: a deploy that AWS would refuse or fail halfway is refused first, naming the setting. */
interface World {
  readonly caller?: string;
  readonly settings?: Record<string, string>;
  readonly bucket?: boolean;
  readonly quota?: LambdaQuota;
  readonly reservedNow?: number;
  readonly stack?: string;
}

const setup = (world: World = {}) => {
  const asked: string[] = [];
  const deps: PreflightDeps = {
    account: async () => world.caller ?? '123456789012',
    bucketExists: async (bucket) => {
      asked.push(bucket);
      return world.bucket ?? true;
    },
    lambdaQuota: async () => world.quota ?? { limit: 1000, unreserved: 1000 },
    reservedNow: async () => world.reservedNow ?? 0,
    stackStatus: async () => world.stack,
    region: async () => ({ region: 'us-east-1', from: 'serverless.yml params' }),
    settings: () => world.settings ?? { account: '123456789012', deliverReservedConcurrency: '2' },
  };
  return { deps, asked };
};

describe('npm run preflight', () => {
  it('passes an account that has the bootstrap, room for the reservation and a stack that can be updated', async () => {
    const { deps, asked } = setup({ stack: 'UPDATE_COMPLETE' });
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(0);
    expect(asked).toEqual(['threatstack-squadcast-relay-123456789012-us-east-1-deploys']);
    expect(text()).toContain('ok    credentials of account 123456789012, the stage');
    expect(text()).toContain('ok    deliverReservedConcurrency 2 fits: 998 of the account');
    expect(text()).toContain('Stage prod can be deployed.');
  });

  it.each<[string, World, string]>([
    [
      'credentials of another account',
      { caller: '999999999999' },
      'these credentials are of account 999999999999, but stage prod deploys to 123456789012 (serverless.yml params.prod.account)',
    ],
    [
      'no account in the settings',
      { settings: { deliverReservedConcurrency: '2' } },
      'serverless.yml names no account for stage prod: set params.prod.account',
    ],
    [
      'no bootstrap',
      { bucket: false },
      'no deployment bucket threatstack-squadcast-relay-123456789012-us-east-1-deploys: create infra/bootstrap.yml in account 123456789012, region us-east-1 first',
    ],
    [
      "a new account's concurrency quota (10)",
      { quota: { limit: 10, unreserved: 10 } },
      'deliverReservedConcurrency 2 does not fit: the account\'s Lambda concurrency quota is 10, 10 of it unreserved, and Lambda keeps 100 unreserved (the deploy would fail halfway). Ask for a higher quota (Service Quotas, AWS Lambda, "Concurrent executions"), or set params.prod.deliverReservedConcurrency: none',
    ],
    [
      'a failed first deploy',
      { stack: 'ROLLBACK_COMPLETE' },
      'is ROLLBACK_COMPLETE: its first deploy failed, and CloudFormation cannot update it. Nothing was serving. Remove it',
    ],
    [
      'a failed rollback',
      { stack: 'UPDATE_ROLLBACK_FAILED' },
      'aws cloudformation continue-update-rollback --region us-east-1 --stack-name threatstack-squadcast-relay-prod --role-arn arn:aws:iam::123456789012:role/threatstack-squadcast-relay-deploy/threatstack-squadcast-relay-us-east-1-cfn',
    ],
    ['a deploy under way', { stack: 'UPDATE_IN_PROGRESS' }, 'another deploy or a rollback is under way'],
  ])('refuses %s, saying what to do', async (_name, world, message) => {
    const { deps } = setup(world);
    const { io, errors } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(1);
    expect(errors()).toContain(message);
  });

  it("counts what the function holds already: a quota just big enough for today's reservation passes", async () => {
    const { deps } = setup({ quota: { limit: 102, unreserved: 100 }, reservedNow: 2 });
    const { io } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(0);
  });

  it('needs no quota check when deliver reserves none', async () => {
    const { deps } = setup({
      settings: { account: '123456789012', deliverReservedConcurrency: 'none' },
      quota: { limit: 10, unreserved: 10 },
    });
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(0);
    expect(text()).toContain("deliverReservedConcurrency: none (deliver shares the account's unreserved concurrency)");
  });

  it('--help prints the usage and asks AWS nothing', async () => {
    const { deps, asked } = setup();
    const { io, text } = captureIo();
    expect(await run(['--help'], io, deps)).toBe(0);
    expect(text()).toContain('usage: npm run preflight');
    expect(asked).toEqual([]);
  });
});
