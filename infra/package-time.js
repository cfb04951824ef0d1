// Values serverless.yml decides when the template is packaged (`${file(./infra/package-time.js):<name>}`),
// from its own settings: the template then holds plain values, not an intrinsic function that
// `serverless invoke local` cannot resolve. osls calls each exported function with
// `resolveConfigurationProperty`, as Serverless Framework v3 did:
// https://www.serverless.com/framework/docs/guides/variables/javascript

/**
 * ALLOWED_SOURCE_IPS for ingest: `custom.allowedSourceIps` (the list the API's resource policy
 * allows) as one comma-separated string, so both come from the same list.
 */
exports.allowedSourceIps = async ({ resolveConfigurationProperty }) => {
  const entries = await resolveConfigurationProperty(['custom', 'allowedSourceIps']);
  if (!Array.isArray(entries) || entries.length === 0 || !entries.every((entry) => typeof entry === 'string' && entry.trim() !== '')) {
    throw new Error('custom.allowedSourceIps must be a non-empty list of IP addresses or CIDR blocks');
  }
  return entries.map((entry) => entry.trim()).join(',');
};

const names = require('./aws-names');

/**
 * Why a stage cannot be packaged, naming the setting. osls prints a rejected variable's `stack` when it
 * has one: this one's stack is its message, so the operator reads a sentence, not a trace.
 */
class StageSettingError extends Error {
  constructor(message) {
    super(message);
    this.stack = message;
  }
}

/** The stage's AWS account (params.<stage>.account) and region, checked. */
const deployTarget = async ({ resolveVariable, resolveConfigurationProperty }) => {
  const stage = await resolveVariable('sls:stage');
  const account = String((await resolveVariable('param:account')) ?? '').trim();
  if (!names.ACCOUNT_ID.test(account))
    throw new StageSettingError(
      `stage ${stage}: set account (the 12-digit AWS account the stage is deployed to) in the stage's section of serverless.yml \`params\`; ` +
        'the deploy refuses any other account, and it names the deployment bucket and the CloudFormation role infra/bootstrap.yml made there',
    );
  const region = String(await resolveConfigurationProperty(['provider', 'region']));
  if (!names.REGIONS.includes(region))
    throw new StageSettingError(`stage ${stage}: region ${region} is not a region the relay supports (infra/aws-names.js)`);
  const service = String(await resolveConfigurationProperty(['service']));
  return { stage, account, region, service };
};

/** provider.deploymentBucket.name: infra/bootstrap.yml's bucket, checked against S3's naming rules. */
exports.deploymentBucket = async (context) => {
  const { stage, account, region, service } = await deployTarget(context);
  const name = names.deploymentBucketName(service, account, region);
  const problems = names.s3BucketNameProblems(name);
  if (problems.length > 0)
    throw new StageSettingError(`stage ${stage}: the deployment bucket name ${name} ${problems.join('; ')} (service, account, region)`);
  return name;
};

/** provider.iam.deploymentRole: infra/bootstrap.yml's CloudFormationRole in the stage's account. */
exports.cloudFormationRole = async (context) => {
  const { account, region, service } = await deployTarget(context);
  return names.cloudFormationRoleArn(service, account, region);
};

/**
 * deliver's reserved concurrency (params.<stage>.deliverReservedConcurrency): a whole number no lower
 * than the SQS mapping's maximumConcurrency (Lambda throttles the mapping below it), or `none`, for an
 * account whose concurrency quota cannot spare it (Lambda keeps 100 unreserved).
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
 */
exports.deliverReservedConcurrency = async ({ resolveVariable, resolveConfigurationProperty }) => {
  const stage = await resolveVariable('sls:stage');
  const setting = String((await resolveVariable('param:deliverReservedConcurrency')) ?? '').trim();
  // null, with serverless.yml's `, null` fallback, leaves the property out: no reservation.
  if (setting.toLowerCase() === 'none') return null;
  const mappingMaximum = Number(await resolveConfigurationProperty(['functions', 'deliver', 'events', '0', 'sqs', 'maximumConcurrency']));
  const n = /^\d+$/.test(setting) ? Number(setting) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < mappingMaximum || n > 1000)
    throw new StageSettingError(
      `stage ${stage}: deliverReservedConcurrency must be a whole number from ${mappingMaximum} (the SQS mapping's maximumConcurrency) to 1000, or none`,
    );
  return n;
};
