import type { SSMClient } from '@aws-sdk/client-ssm';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { ConfigError } from '../common/config-error';
import { Secret } from '../common/secret';
import type { SecretSource } from './env';

export type ParameterReader = (name: string) => Promise<string | undefined>;

/** Reads an SSM SecureString parameter, decrypted. Called once per cold start. */
export const ssmParameterReader =
  (client: SSMClient): ParameterReader =>
  async (name) =>
    (await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;

/**
 * Resolves a secret and checks it with `validate`, which returns a problem or undefined.
 * Errors name the environment key or the parameter, never the value.
 */
export const resolveSecret = async (
  key: string,
  source: SecretSource,
  readParameter: () => ParameterReader,
  validate: (value: string) => string | undefined,
): Promise<Secret> => {
  const secret = source.kind === 'value' ? source.secret : new Secret((await readParameter()(source.name)) ?? '');
  const where = source.kind === 'value' ? key : `${key}_PARAMETER (${source.name})`;
  const problem = secret.reveal() === '' ? 'is empty' : validate(secret.reveal());
  if (problem !== undefined) throw new ConfigError([`${where}: ${problem}`]);
  return secret;
};
