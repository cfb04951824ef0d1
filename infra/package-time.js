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
