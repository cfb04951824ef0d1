import type { SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../../../lib/common/config-error';
import { Secret } from '../../../lib/common/secret';
import type { ParameterReader } from '../../../lib/config/resolve-secret';
import { resolveSecret, ssmParameterReader } from '../../../lib/config/resolve-secret';
import { anAwsError, fakeAwsClient } from '../../helpers/aws';
import { SENTINEL } from '../../helpers/factories';

const accept = (): undefined => undefined;
const unusedReader = (): ParameterReader => {
  throw new Error('the parameter reader must not be created for a value');
};

/** A reader that answers from a map; records the names it was asked for. */
const fakeReader = (parameters: Record<string, string | undefined>) => {
  const asked: string[] = [];
  const reader: ParameterReader = async (name) => {
    asked.push(name);
    return parameters[name];
  };
  return { asked, readParameter: () => reader };
};

describe('resolveSecret', () => {
  it('returns a value from the environment without creating the parameter reader', async () => {
    const secret = await resolveSecret('WEBHOOK_TOKEN', { kind: 'value', secret: new Secret('from-env') }, unusedReader, accept);
    expect(secret.reveal()).toBe('from-env');
  });

  it('reads a parameter by name', async () => {
    const { asked, readParameter } = fakeReader({ '/relay/token': 'from-ssm' });
    const secret = await resolveSecret('WEBHOOK_TOKEN', { kind: 'parameter', name: '/relay/token' }, readParameter, accept);
    expect(secret).toBeInstanceOf(Secret);
    expect(secret.reveal()).toBe('from-ssm');
    expect(asked).toEqual(['/relay/token']);
  });

  it('validates the value it resolved', async () => {
    const validate = jest.fn(accept);
    const { readParameter } = fakeReader({ '/p': 'v' });
    await resolveSecret('K', { kind: 'parameter', name: '/p' }, readParameter, validate);
    expect(validate).toHaveBeenCalledWith('v');
  });

  it.each<[string, Parameters<typeof resolveSecret>[1], Record<string, string | undefined>, string]>([
    [
      'a value that fails validation',
      { kind: 'value', secret: new Secret(SENTINEL) },
      {},
      'invalid configuration: WEBHOOK_TOKEN: is too short',
    ],
    [
      'a parameter that fails validation',
      { kind: 'parameter', name: '/relay/token' },
      { '/relay/token': SENTINEL },
      'invalid configuration: WEBHOOK_TOKEN_PARAMETER (/relay/token): is too short',
    ],
  ])('refuses %s, naming the key or parameter, never the value', async (_name, source, parameters, message) => {
    const rejection = resolveSecret('WEBHOOK_TOKEN', source, fakeReader(parameters).readParameter, () => 'is too short');
    await expect(rejection).rejects.toThrow(ConfigError);
    await expect(rejection).rejects.toThrow(message);
    const error: unknown = await rejection.catch((e: unknown) => e);
    expect((error as Error).message).not.toContain(SENTINEL);
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['a missing parameter', {}],
    ['an empty parameter', { '/relay/url': '' }],
  ])('refuses %s as empty, without validating it', async (_name, parameters) => {
    const validate = jest.fn(accept);
    await expect(
      resolveSecret('SQUADCAST_WEBHOOK_URL', { kind: 'parameter', name: '/relay/url' }, fakeReader(parameters).readParameter, validate),
    ).rejects.toThrow('invalid configuration: SQUADCAST_WEBHOOK_URL_PARAMETER (/relay/url): is empty');
    expect(validate).not.toHaveBeenCalled();
  });

  it('lets a failed read reject (the next invocation tries again)', async () => {
    const readParameter = (): ParameterReader => () => Promise.reject(anAwsError('ThrottlingException'));
    await expect(resolveSecret('K', { kind: 'parameter', name: '/p' }, readParameter, accept)).rejects.toThrow('ThrottlingException');
  });
});

describe('ssmParameterReader', () => {
  it('sends GetParameter with decryption and returns the value', async () => {
    const ssm = fakeAwsClient<SSMClient>(() => ({ Parameter: { Name: '/relay/token', Value: 'decrypted' } }));
    expect(await ssmParameterReader(ssm.client)('/relay/token')).toBe('decrypted');
    expect(ssm.commands()).toEqual([{ name: 'GetParameterCommand', input: { Name: '/relay/token', WithDecryption: true } }]);
  });

  it('returns undefined for a parameter without a value', async () => {
    const ssm = fakeAwsClient<SSMClient>(() => ({}));
    expect(await ssmParameterReader(ssm.client)('/p')).toBeUndefined();
  });
});
