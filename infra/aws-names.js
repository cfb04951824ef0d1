// The names the deploy gives what infra/bootstrap.yml creates, derived the same way here (for
// serverless.yml, at package time, offline) as there (by CloudFormation), and AWS's rules for them.
// Read by infra/package-time.js, the deploy rehearsal's rules and tests/infra/bootstrap.test.ts.

/**
 * The regions a stage can be deployed to: AWS's commercial regions, China and GovCloud, as CloudFormation
 * lists them (cfn-lint 1.51's provider schemas). The ISO and sovereign partitions are left out: the
 * relay has never been checked there.
 */
const REGIONS = Object.freeze([
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-west-1',
  'us-west-2',
]);

/** An AWS account id: twelve digits. */
const ACCOUNT_ID = /^\d{12}$/;

/** The ARN partition of a region. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html */
const partitionOf = (region) => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');

/**
 * What is wrong with a general purpose bucket name, by S3's naming rules (an empty list when nothing is).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
const s3BucketNameProblems = (name) => {
  const problems = [];
  if (name.length < 3 || name.length > 63) problems.push(`is ${name.length} characters long; S3 allows 3 to 63`);
  if (!/^[a-z0-9.-]*$/.test(name)) problems.push('may hold only lowercase letters, digits, dots and hyphens');
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) problems.push('must begin and end with a letter or a digit');
  if (name.includes('..')) problems.push('must not hold two dots in a row');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) problems.push('must not look like an IP address');
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) if (name.startsWith(prefix)) problems.push(`must not begin with ${prefix}`);
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'])
    if (name.endsWith(suffix)) problems.push(`must not end with ${suffix}`);
  return problems;
};

/** infra/bootstrap.yml's DeploymentBucket: <service>-<account>-<region>-deploys. */
const deploymentBucketName = (service, account, region) => `${service}-${account}-${region}-deploys`;

/** infra/bootstrap.yml's CloudFormationRole (IAM path /<service>-deploy/). */
const cloudFormationRoleArn = (service, account, region) =>
  `arn:${partitionOf(region)}:iam::${account}:role/${service}-deploy/${service}-${region}-cfn`;

/** infra/bootstrap.yml's FunctionBoundary (IAM path /<service>/). */
const functionBoundaryArn = (service, account, region) =>
  `arn:${partitionOf(region)}:iam::${account}:policy/${service}/${service}-${region}-boundary`;

module.exports = {
  REGIONS,
  ACCOUNT_ID,
  partitionOf,
  s3BucketNameProblems,
  deploymentBucketName,
  cloudFormationRoleArn,
  functionBoundaryArn,
};
