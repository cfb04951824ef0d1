import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
import * as ssmModule from '@aws-sdk/client-ssm';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Secret } from '../../../lib/common/secret';
import type { ParameterRead } from '../../../lib/config/ssm-parameter-store';
import { createSsmParameterStore } from '../../../lib/config/ssm-parameter-store';
import { SENTINEL } from '../../helpers/factories';
import type { FakeSsmService } from '../../helpers/fake-ssm';
import { anSsmError, fakeSsmClients, fakeWallClock } from '../../helpers/fake-ssm';

/** Powertools Parameters' SSMProvider over a real SSMClient whose `send` is faked at the command level. */
const NAME = '/threatstack-squadcast-relay/unit/webhook-token';
const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'unit', secretAccessKey: 'unit' } });

let ssm: FakeSsmService;
let clock: ReturnType<typeof fakeWallClock>;
beforeEach(() => {
  ssm = fakeSsmClients(ssmModule);
  clock = fakeWallClock(Date.parse('2026-12-01T10:00:00Z'));
});
afterEach(() => {
  clock.restore();
  jest.restoreAllMocks();
});

const revealedValue = (read: ParameterRead): string | undefined => (read.kind === 'found' ? read.value.reveal() : undefined);

describe('createSsmParameterStore', () => {
  it('reads a SecureString with decryption, as a Secret', async () => {
    ssm.put(NAME, 'token-one-0123456789');
    const read = await createSsmParameterStore(client, { maxAgeSeconds: 300 }).read(NAME);
    expect(read).toEqual({ kind: 'found', value: expect.any(Secret) });
    expect(revealedValue(read)).toBe('token-one-0123456789');
    expect(ssm.reads()).toEqual([NAME]);
    expect(ssm.allDecrypted()).toBe(true);
  });

  it('keeps a value for maxAge, then reads the new one: rotation without a new container', async () => {
    const store = createSsmParameterStore(client, { maxAgeSeconds: 300 });
    ssm.put(NAME, 'token-one-0123456789');
    expect(revealedValue(await store.read(NAME))).toBe('token-one-0123456789');
    ssm.put(NAME, 'token-two-0123456789');
    clock.advance(299);
    expect(revealedValue(await store.read(NAME))).toBe('token-one-0123456789');
    clock.advance(2);
    expect(revealedValue(await store.read(NAME))).toBe('token-two-0123456789');
    expect(ssm.reads()).toEqual([NAME, NAME]);
  });

  it('reads on every call with maxAge 0', async () => {
    const store = createSsmParameterStore(client, { maxAgeSeconds: 0 });
    ssm.put(NAME, 'token-one-0123456789');
    await store.read(NAME);
    await store.read(NAME);
    expect(ssm.reads()).toEqual([NAME, NAME]);
  });

  it('answers absent for a parameter that does not exist, and keeps that answer for maxAge too', async () => {
    const store = createSsmParameterStore(client, { maxAgeSeconds: 300 });
    expect(await store.read(NAME)).toEqual({ kind: 'absent' });
    ssm.put(NAME, 'token-one-0123456789');
    clock.advance(299);
    expect(await store.read(NAME)).toEqual({ kind: 'absent' });
    expect(ssm.reads()).toEqual([NAME]);
    clock.advance(2);
    expect(revealedValue(await store.read(NAME))).toBe('token-one-0123456789');
  });

  it('notices a deleted parameter after maxAge', async () => {
    const store = createSsmParameterStore(client, { maxAgeSeconds: 60 });
    ssm.put(NAME, 'token-one-0123456789');
    await store.read(NAME);
    ssm.delete(NAME);
    clock.advance(61);
    expect(await store.read(NAME)).toEqual({ kind: 'absent' });
  });

  it('throws on a failed read (Powertools GetParameterError, the SDK error as its cause), never with the value', async () => {
    const store = createSsmParameterStore(client, { maxAgeSeconds: 300 });
    ssm.put(NAME, SENTINEL);
    ssm.failWith(() => anSsmError('ThrottlingException'));
    const failure: unknown = await store.read(NAME).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GetParameterError);
    expect(((failure as Error).cause as Error).name).toBe('ThrottlingException');
    expect(String((failure as Error).message)).not.toContain(SENTINEL);
    // A failure is not cached: the next read asks again.
    ssm.recover();
    expect(revealedValue(await store.read(NAME))).toBe(SENTINEL);
  });

  it('caches each parameter on its own', async () => {
    const store = createSsmParameterStore(client, { maxAgeSeconds: 300 });
    ssm.put('/a', 'value-a-0123456789');
    expect(revealedValue(await store.read('/a'))).toBe('value-a-0123456789');
    expect(await store.read('/b')).toEqual({ kind: 'absent' });
    await store.read('/a');
    await store.read('/b');
    expect(ssm.reads()).toEqual(['/a', '/b']);
  });
});
