import { format, inspect } from 'node:util';
import { Secret } from '../../../lib/common/secret';
import { SENTINEL } from '../../helpers/factories';

describe('Secret', () => {
  const secret = new Secret(SENTINEL);

  it('reveals its value only through reveal()', () => {
    expect(secret.reveal()).toBe(SENTINEL);
  });

  it.each<[string, () => string]>([
    ['String()', () => String(secret)],
    ['a template literal', () => `${secret}`],
    ['string concatenation', () => `${secret}`],
    ['toString()', () => secret.toString()],
    ['JSON.stringify', () => JSON.stringify(secret)],
    ['JSON.stringify inside an object', () => JSON.stringify({ config: { token: secret } })],
    ['util.inspect', () => inspect(secret)],
    ['util.inspect inside an object, deep', () => inspect({ a: { b: { token: secret } } }, { depth: 10, showHidden: true })],
    ['console-style formatting (%o)', () => format('%o', secret)],
    ['console-style formatting (%s)', () => format('%s', secret)],
  ])('prints <secret> through %s', (_name, print) => {
    const printed = print();
    expect(printed).toContain('<secret>');
    expect(printed).not.toContain(SENTINEL);
  });

  it('has no enumerable property holding the value', () => {
    expect(Object.keys(secret)).toEqual([]);
    expect({ ...secret }).toEqual({});
  });
});
