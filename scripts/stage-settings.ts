import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { parse } from 'yaml';

/**
 * The stage settings of serverless.yml's `params` block (its `default` section, then the stage's):
 * the same source `serverless deploy` reads, so that an operator command finds the stage where it
 * was deployed.
 */
const SERVERLESS_YML = join(__dirname, '..', 'serverless.yml');

interface ServerlessYml {
  readonly params?: Record<string, Record<string, unknown> | null>;
  readonly custom?: { readonly allowedSourceIps?: readonly string[] };
}

const readServerlessYml = (path: string): ServerlessYml => parse(readFileSync(path, 'utf8')) as ServerlessYml;

/** Threat Stack's addresses, as the API's resource policy allows them (custom.allowedSourceIps). */
export const readAllowedSourceIps = (path = SERVERLESS_YML): readonly string[] => readServerlessYml(path).custom?.allowedSourceIps ?? [];

export const readStageSettings = (stage: string, path = SERVERLESS_YML): Record<string, string> => {
  const config = readServerlessYml(path);
  const pick = (section: Record<string, unknown> | null | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(section ?? {}).map(([key, value]) => [key, String(value ?? '')]));
  return { ...pick(config.params?.default), ...pick(config.params?.[stage]) };
};

/** A region and where it came from, for the line that says which one a command uses. */
export interface ChosenRegion {
  readonly region: string;
  readonly from: string;
}

/** The region the AWS SDK would use by itself (AWS_REGION, or the profile's), or undefined when it has none. */
export const sdkRegion = async (): Promise<string | undefined> => {
  const client = new LambdaClient({});
  try {
    return await client.config.region();
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
};

/**
 * The region an operator command uses for a stage: `--region`, else the SDK's usual settings
 * (AWS_REGION, the profile's region), else the region the stage's settings deploy it to.
 */
export const regionFor = async (
  flag: string | undefined,
  stage: string,
  fromSdk: () => Promise<string | undefined> = sdkRegion,
  settings: (stage: string) => Record<string, string> = readStageSettings,
): Promise<ChosenRegion> => {
  if (flag !== undefined && flag.trim() !== '') return { region: flag.trim(), from: '--region' };
  const configured = await fromSdk();
  if (configured !== undefined && configured !== '') return { region: configured, from: 'your AWS settings (AWS_REGION or the profile)' };
  const region = settings(stage).region ?? '';
  if (region === '') throw new Error(`no region for stage ${stage}: pass --region, or set region in serverless.yml params`);
  return { region, from: `serverless.yml params, where stage ${stage} is deployed` };
};
