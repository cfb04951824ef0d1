import type { SourceAllowlist } from '../../../lib/ingest/source-allowlist';
import { normalizeAddress, parseAllowlist, THREAT_STACK_SOURCE_IPS } from '../../../lib/ingest/source-allowlist';
import { anAllowlist, SENTINEL } from '../../helpers/factories';

const allowlist = (entries: readonly string[]): SourceAllowlist => anAllowlist(entries);

describe('parseAllowlist: what an allowlist allows', () => {
  const threatStack = allowlist(THREAT_STACK_SOURCE_IPS);

  it.each<[string, string | undefined, boolean]>([
    ['each Threat Stack address', '52.20.173.142', true],
    ['the second Threat Stack address', '54.173.79.87', true],
    ['the third Threat Stack address', '54.174.225.119', true],
    ['an IPv4-mapped IPv6 form of a Threat Stack address', '::ffff:52.20.173.142', true],
    ['the IPv4-mapped form in upper case', '::FFFF:54.173.79.87', true],
    ['a neighbour of a Threat Stack address', '52.20.173.143', false],
    ['an IPv4-mapped form of another address', '::ffff:52.20.173.143', false],
    ['loopback', '127.0.0.1', false],
    ['an IPv6 address', '2001:db8::1', false],
    ['undefined (no source address)', undefined, false],
    ['an empty string', '', false],
    ['garbage', 'not-an-ip', false],
    ['a CIDR block instead of an address', '52.20.173.142/32', false],
    ['several addresses', '52.20.173.142, 10.0.0.1', false],
    ['an address with a port', '52.20.173.142:443', false],
  ])('%s (%p): %p', (_name, address, allowed) => {
    expect(threatStack.allows(address)).toBe(allowed);
  });

  it('lists the Threat Stack addresses by default', () => {
    expect(THREAT_STACK_SOURCE_IPS).toEqual(['52.20.173.142', '54.173.79.87', '54.174.225.119']);
    expect(threatStack.entries).toEqual(THREAT_STACK_SOURCE_IPS);
  });

  it.each<[string, readonly string[], string, boolean]>([
    ['IPv4 CIDR: first address', ['10.1.0.0/16'], '10.1.0.0', true],
    ['IPv4 CIDR: last address', ['10.1.0.0/16'], '10.1.255.255', true],
    ['IPv4 CIDR: just outside', ['10.1.0.0/16'], '10.2.0.0', false],
    ['IPv4 CIDR: mapped IPv6 inside', ['10.1.0.0/16'], '::ffff:10.1.2.3', true],
    ['IPv4 /32', ['192.0.2.7/32'], '192.0.2.7', true],
    ['IPv4 /32: neighbour', ['192.0.2.7/32'], '192.0.2.8', false],
    ['IPv4 /0 allows everything IPv4', ['0.0.0.0/0'], '203.0.113.9', true],
    ['IPv6 CIDR: inside', ['2001:db8::/32'], '2001:db8:ffff::1', true],
    ['IPv6 CIDR: outside', ['2001:db8::/32'], '2001:db9::1', false],
    ['IPv6 exact address', ['2001:db8::1'], '2001:db8::1', true],
    ['IPv6 exact address, other spelling', ['2001:db8::1'], '2001:0db8:0000::0001', true],
    ['IPv6 exact address: neighbour', ['2001:db8::1'], '2001:db8::2', false],
    ['an IPv4-mapped entry allows the IPv4 form', ['::ffff:198.51.100.1'], '198.51.100.1', true],
    ['entries are trimmed', [' 198.51.100.1 ', '\t10.0.0.0/8'], '10.9.9.9', true],
    ['an IPv4 block does not allow IPv6', ['0.0.0.0/0'], '2001:db8::1', false],
  ])('%s', (_name, entries, address, allowed) => {
    expect(allowlist(entries).allows(address)).toBe(allowed);
  });

  it('keeps the trimmed entries', () => {
    expect(allowlist([' 10.0.0.0/8 ', '2001:db8::1']).entries).toEqual(['10.0.0.0/8', '2001:db8::1']);
  });
});

describe('parseAllowlist: malformed entries are named by position, never by value', () => {
  it.each<[string, readonly string[], string]>([
    ['an empty list', [], 'the list is empty'],
    ['garbage first', [SENTINEL], 'entry 1 is not an IP address or CIDR block'],
    ['garbage third', ['10.0.0.1', '10.0.0.2', `${SENTINEL}.example`], 'entry 3 is not an IP address or CIDR block'],
    ['an empty entry', ['10.0.0.1', ''], 'entry 2 is not an IP address or CIDR block'],
    ['an IPv4 address out of range', ['256.1.1.1'], 'entry 1 is not an IP address or CIDR block'],
    ['a host name', ['hooks.threatstack.com'], 'entry 1 is not an IP address or CIDR block'],
    ['two slashes', ['10.0.0.0/8/8'], 'entry 1 is not an IP address or CIDR block'],
    ['an IPv4 prefix over 32', ['10.0.0.0/33'], 'entry 1 has an invalid CIDR prefix length'],
    ['an IPv6 prefix over 128', ['2001:db8::/129'], 'entry 1 has an invalid CIDR prefix length'],
    ['an empty prefix', ['10.0.0.0/'], 'entry 1 has an invalid CIDR prefix length'],
    ['a negative prefix', ['10.0.0.0/-1'], 'entry 1 has an invalid CIDR prefix length'],
    ['a word as prefix', [`10.0.0.0/${SENTINEL}`], 'entry 1 has an invalid CIDR prefix length'],
    ['a fractional prefix', ['10.0.0.0/8.5'], 'entry 1 has an invalid CIDR prefix length'],
  ])('%s', (_name, entries, problem) => {
    const parsed = parseAllowlist(entries);
    expect(parsed).toEqual({ kind: 'invalid', problems: [problem] });
    expect(JSON.stringify(parsed)).not.toContain(SENTINEL);
  });
});

describe('normalizeAddress', () => {
  it.each([
    ['::ffff:52.20.173.142', '52.20.173.142'],
    ['::FFFF:52.20.173.142', '52.20.173.142'],
    [' 52.20.173.142 ', '52.20.173.142'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:7f00:1', '::ffff:7f00:1'],
  ])('%p -> %p', (input, output) => {
    expect(normalizeAddress(input)).toBe(output);
  });
});
