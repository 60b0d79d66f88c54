import ipaddr from 'ipaddr.js';

/**
 * Address ranges the fetcher never connects to (SPEC-NOTES 5): the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (RFC 6890 and successors), deprecated ranges, and cloud
 * metadata addresses. This one list is also what the fetcher's Kubernetes NetworkPolicy
 * excludes from its 443 egress, so the two can never disagree.
 */
export interface SpecialUseRange {
  cidr: string;
  name: string;
  /**
   * Translation prefixes that carry an IPv4 address inside: the fetcher blocks them only
   * when the embedded address is blocked. A NetworkPolicy cannot look inside, so it
   * excludes the whole prefix.
   */
  embedsIPv4?: 'nat64' | '6to4';
}

export const SPECIAL_USE_RANGES: readonly SpecialUseRange[] = [
  // IPv4
  { cidr: '0.0.0.0/8', name: '"this network" (includes 0.0.0.0)' },
  { cidr: '10.0.0.0/8', name: 'private use' },
  { cidr: '100.64.0.0/10', name: 'shared address space (carrier-grade NAT; Alibaba Cloud metadata)' },
  { cidr: '127.0.0.0/8', name: 'loopback' },
  { cidr: '169.254.0.0/16', name: 'link-local (cloud metadata 169.254.169.254)' },
  { cidr: '172.16.0.0/12', name: 'private use' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignments (Oracle Cloud metadata 192.0.0.192)' },
  { cidr: '192.0.2.0/24', name: 'documentation (TEST-NET-1)' },
  { cidr: '192.31.196.0/24', name: 'AS112-v4' },
  { cidr: '192.52.193.0/24', name: 'AMT' },
  { cidr: '192.88.99.0/24', name: 'deprecated 6to4 relay anycast' },
  { cidr: '192.168.0.0/16', name: 'private use' },
  { cidr: '192.175.48.0/24', name: 'direct delegation AS112 service' },
  { cidr: '198.18.0.0/15', name: 'benchmarking' },
  { cidr: '198.51.100.0/24', name: 'documentation (TEST-NET-2)' },
  { cidr: '203.0.113.0/24', name: 'documentation (TEST-NET-3)' },
  { cidr: '224.0.0.0/4', name: 'multicast' },
  { cidr: '240.0.0.0/4', name: 'reserved (includes broadcast 255.255.255.255)' },
  { cidr: '168.63.129.16/32', name: 'Azure platform (WireServer) address' },
  // IPv6
  { cidr: '::/128', name: 'unspecified address' },
  { cidr: '::1/128', name: 'loopback' },
  { cidr: '::ffff:0:0/96', name: 'IPv4-mapped' },
  { cidr: '::/96', name: 'IPv4-compatible (deprecated)' },
  { cidr: '64:ff9b::/96', name: 'NAT64 well-known prefix', embedsIPv4: 'nat64' },
  { cidr: '64:ff9b:1::/48', name: 'local-use IPv4/IPv6 translation' },
  { cidr: '100::/64', name: 'discard-only' },
  { cidr: '2001::/23', name: 'IETF protocol assignments (Teredo, ORCHID, …)' },
  { cidr: '2001:db8::/32', name: 'documentation' },
  { cidr: '2002::/16', name: '6to4', embedsIPv4: '6to4' },
  { cidr: '2620:4f:8000::/48', name: 'direct delegation AS112 service' },
  { cidr: '3fff::/20', name: 'documentation' },
  { cidr: '5f00::/16', name: 'segment routing (SRv6) SIDs' },
  { cidr: 'fc00::/7', name: 'unique local (AWS metadata fd00:ec2::254)' },
  { cidr: 'fe80::/10', name: 'link-local' },
  { cidr: 'fec0::/10', name: 'site-local (deprecated)' },
  { cidr: 'ff00::/8', name: 'multicast' },
];

/** Every IPv6 address outside global unicast is unassigned or special; none is a web server. */
export const IPV6_GLOBAL_UNICAST = '2000::/3';

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

const COMPILED: readonly { range: SpecialUseRange; cidr: Cidr }[] = SPECIAL_USE_RANGES.map((range) => ({
  range,
  cidr: ipaddr.parseCIDR(range.cidr),
}));
const GLOBAL_UNICAST = ipaddr.parseCIDR(IPV6_GLOBAL_UNICAST);

export type AddressVerdict = { blocked: false } | { blocked: true; reason: string };

/** CIDRs exempt from the block (tests and demos only; refused in production by the fetcher's config). */
export class AddressAllowList {
  private readonly cidrs: Cidr[];

  constructor(cidrs: readonly string[] = []) {
    this.cidrs = cidrs.map((c) => {
      try {
        return ipaddr.parseCIDR(c);
      } catch {
        throw new RangeError(`${JSON.stringify(c)} is not a CIDR such as 127.0.0.0/8 or ::1/128`);
      }
    });
  }

  get size(): number {
    return this.cidrs.length;
  }

  includes(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    return this.cidrs.some((c) => address.kind() === c[0].kind() && address.match(c));
  }
}

const NO_EXEMPTIONS = new AddressAllowList();

/**
 * Whether the fetcher may connect to `address` (a canonical IPv4 or IPv6 literal, without
 * brackets, as DNS or a URL parser gives it).
 */
export function checkAddress(address: string, allow: AddressAllowList = NO_EXEMPTIONS): AddressVerdict {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  // Only the canonical dotted quad: ipaddr.js would read 010.0.0.1 as octal, 8.0.0.1.
  if (!bare.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(bare)) {
    return { blocked: true, reason: `${JSON.stringify(address)} is not an IP address in canonical form` };
  }
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(bare);
  } catch {
    return { blocked: true, reason: `${JSON.stringify(address)} is not an IP address` };
  }
  if (address.includes('%'))
    return { blocked: true, reason: `${address} has an IPv6 zone, which only link-local addresses use` };
  return checkParsed(ip, allow);
}

function checkParsed(ip: ipaddr.IPv4 | ipaddr.IPv6, allow: AddressAllowList): AddressVerdict {
  if (allow.includes(ip)) return { blocked: false };
  const shown = ip.toString();
  for (const { range, cidr } of COMPILED) {
    if (ip.kind() !== cidr[0].kind() || !ip.match(cidr)) continue;
    if (range.embedsIPv4 && ip instanceof ipaddr.IPv6) {
      const inner = embeddedIPv4(ip, range.embedsIPv4);
      // Exemptions match addresses as written, not what a translator would turn them into.
      const verdict = checkParsed(inner, NO_EXEMPTIONS);
      return verdict.blocked
        ? { blocked: true, reason: `${shown} is the ${range.name} form of ${inner.toString()}: ${verdict.reason}` }
        : verdict;
    }
    return { blocked: true, reason: `${shown} is in ${range.cidr}, ${range.name}` };
  }
  if (ip instanceof ipaddr.IPv6 && !ip.match(GLOBAL_UNICAST)) {
    return { blocked: true, reason: `${shown} is outside IPv6 global unicast (${IPV6_GLOBAL_UNICAST})` };
  }
  return { blocked: false };
}

function embeddedIPv4(ip: ipaddr.IPv6, form: 'nat64' | '6to4'): ipaddr.IPv4 {
  const p = ip.parts;
  // NAT64 (RFC 6052): the last 32 bits. 6to4 (RFC 3056): bits 16-47, right after 2002.
  const [hi, lo] = form === 'nat64' ? [p[6] ?? 0, p[7] ?? 0] : [p[1] ?? 0, p[2] ?? 0];
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}
