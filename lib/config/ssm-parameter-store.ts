import { ParameterNotFoundError } from '@aws-lambda-powertools/parameters/errors';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { Secret } from '../common/secret';

/** A parameter's state in the store: its value, or `absent` (it does not exist). */
export type ParameterRead = { readonly kind: 'found'; readonly value: Secret } | { readonly kind: 'absent' };

/** Reads SecureString parameters, decrypted. A failure to read (not an absence) throws. */
export interface ParameterStore {
  read(name: string): Promise<ParameterRead>;
}

const ABSENT: ParameterRead = { kind: 'absent' };

export interface SsmParameterStoreOptions {
  /** A value, or the parameter's absence, is reused this long before SSM is asked again. */
  readonly maxAgeSeconds: number;
  readonly now?: () => number;
}

/**
 * Powertools Parameters over the injected SDK v3 client: `get` with `decrypt` and `maxAge` keeps each
 * value for maxAge, so a rotated value is used within that time, and SSM sees one GetParameter per
 * parameter, container and maxAge. Powertools does not cache an absence; this does, for the same
 * time, so an optional parameter that is not there costs no request per invocation.
 * https://docs.powertools.aws.dev/lambda/typescript/latest/features/parameters/
 */
export const createSsmParameterStore = (client: SSMClient, options: SsmParameterStoreOptions): ParameterStore => {
  const provider = new SSMProvider({ awsSdkV3Client: client });
  const now = options.now ?? Date.now;
  const absentUntil = new Map<string, number>();
  return {
    read: async (name) => {
      if ((absentUntil.get(name) ?? 0) > now()) return ABSENT;
      try {
        const value = await provider.get(name, { decrypt: true, maxAge: options.maxAgeSeconds, throwOnMissing: true });
        absentUntil.delete(name);
        return { kind: 'found', value: new Secret(typeof value === 'string' ? value : '') };
      } catch (error) {
        // SSM's ParameterNotFound (or no value), normalised by Powertools because of throwOnMissing.
        if (!(error instanceof ParameterNotFoundError)) throw error;
        absentUntil.set(name, now() + options.maxAgeSeconds * 1000);
        return ABSENT;
      }
    },
  };
};
