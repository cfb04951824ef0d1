import { BlockList, isIP } from 'node:net';
import type { Checked } from '../common/checked';
import { invalid, valid } from '../common/checked';

export interface SourceAllowlist {
  readonly entries: readonly string[];
  allows(address: string | undefined): boolean;
}

/** Threat Stack's webhook source addresses (docs/reference/threatstack-webhook.md). */
export const THREAT_STACK_SOURCE_IPS: readonly string[] = ['52.20.173.142', '54.173.79.87', '54.174.225.119'];

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** `::ffff:a.b.c.d` is the IPv4 address a.b.c.d arriving on a dual-stack socket. */
export const normalizeAddress = (address: string): string => {
  const trimmed = address.trim();
  return IPV4_MAPPED.exec(trimmed)?.[1] ?? trimmed;
};

/**
 * Parses a list of IPv4/IPv6 addresses or CIDR blocks. Positions (never values) are reported,
 * so the message can name the configuration key without leaking it.
 */
export const parseAllowlist = (entries: readonly string[]): Checked<SourceAllowlist> => {
  const list = new BlockList();
  for (const [index, raw] of entries.entries()) {
    const entry = raw.trim();
    const [address = '', prefixText, ...rest] = entry.split('/');
    const ip = normalizeAddress(address);
    const family = isIP(ip);
    if (family === 0 || rest.length > 0) return invalid(`entry ${index + 1} is not an IP address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(ip, type);
      continue;
    }
    const prefix = Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
      return invalid(`entry ${index + 1} has an invalid CIDR prefix length`);
    }
    list.addSubnet(ip, prefix, type);
  }
  if (entries.length === 0) return invalid('the list is empty');
  return valid({
    entries: entries.map((entry) => entry.trim()),
    allows: (address) => {
      // API Gateway gives the bare address; anything around it (spaces, a list, a port) is refused.
      if (address === undefined || address !== address.trim()) return false;
      const ip = normalizeAddress(address);
      const family = isIP(ip);
      return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    },
  });
};
