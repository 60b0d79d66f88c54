import * as fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { AddressAllowList, checkAddress, SPECIAL_USE_RANGES, SpecialUseRange } from './special-use-addresses';

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

function toBig(ip: Ip): bigint {
  return ip.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

function fromBig(value: bigint, bytes: 4 | 16): string {
  const out: number[] = [];
  for (let i = 0, n = value; i < bytes; i++, n >>= 8n) out.unshift(Number(n & 0xffn));
  return ipaddr.fromByteArray(out).toString();
}

/** First, middle and last address of a CIDR, as canonical literals. */
function bounds(cidr: string): { first: string; middle: string; last: string } {
  const [network, prefix] = ipaddr.parseCIDR(cidr);
  const bytes = network.kind() === 'ipv4' ? 4 : 16;
  const size = 1n << BigInt(bytes * 8 - prefix);
  const first = toBig(network) & ~(size - 1n);
  return {
    first: fromBig(first, bytes),
    middle: fromBig(first + size / 2n, bytes),
    last: fromBig(first + size - 1n, bytes),
  };
}

function contains(range: SpecialUseRange, address: string): boolean {
  const ip = ipaddr.parse(address);
  const cidr = ipaddr.parseCIDR(range.cidr);
  return ip.kind() === cidr[0].kind() && ip.match(cidr);
}

function expectBlocked(address: string, allow?: AddressAllowList): string {
  const verdict = checkAddress(address, allow);
  expect(verdict).toEqual({ blocked: true, reason: expect.any(String) });
  const reason = verdict.blocked ? verdict.reason : '';
  expect(reason.length).toBeGreaterThan(10);
  return reason;
}

const plainRanges = SPECIAL_USE_RANGES.filter((r) => !r.embedsIPv4);
const translationRanges = SPECIAL_USE_RANGES.filter((r) => r.embedsIPv4);

const plainCases = plainRanges.flatMap((range) => {
  const b = bounds(range.cidr);
  return (['first', 'middle', 'last'] as const).map((which) => {
    const address = b[which];
    // The list is checked in order; a more specific range listed earlier (::/128 inside
    // ::/96) is the one the reason names.
    const named = SPECIAL_USE_RANGES.find((r) => contains(r, address)) ?? range;
    return { cidr: range.cidr, which, address, named };
  });
});

describe('checkAddress (SPEC-NOTES 5)', () => {
  it('SPEC-NOTES 5: the range table is well formed (every CIDR parses, is its network address, and has a name)', () => {
    for (const range of SPECIAL_USE_RANGES) {
      const [network, prefix] = ipaddr.parseCIDR(range.cidr);
      expect(`${bounds(range.cidr).first}/${prefix}`).toBe(`${network.toString()}/${prefix}`);
      expect(range.name.trim()).not.toBe('');
    }
    expect(translationRanges.map((r) => r.cidr).sort()).toEqual(['2002::/16', '64:ff9b::/96']);
  });

  it('SPEC-NOTES 5: the table still holds the ranges SSRF defences rely on (the table-driven rows cannot notice a removal)', () => {
    const cidrs = SPECIAL_USE_RANGES.map((r) => r.cidr);
    for (const required of [
      '0.0.0.0/8',
      '10.0.0.0/8',
      '100.64.0.0/10',
      '127.0.0.0/8',
      '169.254.0.0/16',
      '172.16.0.0/12',
      '192.0.0.0/24',
      '192.168.0.0/16',
      '224.0.0.0/4',
      '240.0.0.0/4',
      '168.63.129.16/32',
      '::/128',
      '::1/128',
      '::ffff:0:0/96',
      '::/96',
      '64:ff9b::/96',
      '2002::/16',
      'fc00::/7',
      'fe80::/10',
      'ff00::/8',
    ]) {
      expect(cidrs).toContain(required);
    }
  });

  describe('SPEC-NOTES 5: every special-use range is blocked at its first, middle and last address', () => {
    it.each(plainCases)('SPEC-NOTES 5: $cidr $which address $address is blocked', ({ address, named }) => {
      const reason = expectBlocked(address);
      expect(reason).toContain(named.cidr);
      expect(reason).toContain(named.name);
    });
  });

  describe('SPEC-NOTES 5: translation prefixes are blocked when, and only when, the embedded IPv4 is', () => {
    const cases = [
      // NAT64 (RFC 6052): the IPv4 address is the last 32 bits; the prefix bits are fixed.
      { cidr: '64:ff9b::/96', which: 'first', address: '64:ff9b::a00:1', inner: '10.0.0.1', blocked: true },
      { cidr: '64:ff9b::/96', which: 'middle', address: '64:ff9b::7f00:1', inner: '127.0.0.1', blocked: true },
      { cidr: '64:ff9b::/96', which: 'last', address: '64:ff9b::a9fe:a9fe', inner: '169.254.169.254', blocked: true },
      { cidr: '64:ff9b::/96', which: 'public', address: '64:ff9b::808:808', inner: '8.8.8.8', blocked: false },
      { cidr: '64:ff9b::/96', which: 'public', address: '64:ff9b::101:101', inner: '1.1.1.1', blocked: false },
      // 6to4 (RFC 3056): the IPv4 address is bits 16-47; the rest is the site's own.
      { cidr: '2002::/16', which: 'first', address: '2002:a00:1::', inner: '10.0.0.1', blocked: true },
      { cidr: '2002::/16', which: 'middle', address: '2002:a00:1:8000::', inner: '10.0.0.1', blocked: true },
      {
        cidr: '2002::/16',
        which: 'last',
        address: '2002:a00:1:ffff:ffff:ffff:ffff:ffff',
        inner: '10.0.0.1',
        blocked: true,
      },
      { cidr: '2002::/16', which: 'loopback', address: '2002:7f00:1::1', inner: '127.0.0.1', blocked: true },
      { cidr: '2002::/16', which: 'public', address: '2002:808:808::', inner: '8.8.8.8', blocked: false },
      { cidr: '2002::/16', which: 'public', address: '2002:808:808:ffff::1', inner: '8.8.8.8', blocked: false },
    ];

    it.each(cases)(
      'SPEC-NOTES 5: $cidr ($which) $address embedding $inner: blocked=$blocked',
      ({ address, inner, blocked }) => {
        if (!blocked) {
          expect(checkAddress(address)).toEqual({ blocked: false });
          return;
        }
        const reason = expectBlocked(address);
        expect(reason).toContain(inner);
        expect(reason).toMatch(/NAT64|6to4/);
        // The reason names the IPv4 range the embedded address falls in, too.
        const innerRange = SPECIAL_USE_RANGES.find((r) => contains(r, inner));
        expect(innerRange).toBeDefined();
        expect(reason).toContain(innerRange?.cidr);
      },
    );

    it.each(translationRanges.map((r) => ({ cidr: r.cidr, ...bounds(r.cidr) })))(
      'SPEC-NOTES 5: $cidr first ($first, embeds 0.0.0.0) and last ($last, embeds 255.255.255.255) are blocked',
      ({ first, last }) => {
        expect(expectBlocked(first)).toContain('0.0.0.0/8');
        expect(expectBlocked(last)).toContain('240.0.0.0/4');
      },
    );
  });

  describe('SPEC-NOTES 5: public addresses pass', () => {
    it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:81c::200e'])(
      'SPEC-NOTES 5: %s is allowed',
      (address) => {
        expect(checkAddress(address)).toEqual({ blocked: false });
      },
    );

    it('SPEC-NOTES 5: a bracketed public IPv6 literal is allowed', () => {
      expect(checkAddress('[2606:4700:4700::1111]')).toEqual({ blocked: false });
    });
  });

  describe('SPEC-NOTES 5: cloud metadata addresses are blocked', () => {
    it.each([
      { address: '169.254.169.254', cidr: '169.254.0.0/16', cloud: 'AWS, GCP, Azure IMDS' },
      { address: 'fd00:ec2::254', cidr: 'fc00::/7', cloud: 'AWS IPv6 IMDS' },
      { address: '100.100.100.200', cidr: '100.64.0.0/10', cloud: 'Alibaba Cloud' },
      { address: '192.0.0.192', cidr: '192.0.0.0/24', cloud: 'Oracle Cloud' },
      { address: '168.63.129.16', cidr: '168.63.129.16/32', cloud: 'Azure WireServer' },
    ])('SPEC-NOTES 5: $address ($cloud) is blocked as $cidr', ({ address, cidr }) => {
      expect(expectBlocked(address)).toContain(cidr);
    });
  });

  describe('SPEC-NOTES 5: IPv4 inside IPv6', () => {
    it.each(['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:8.8.8.8', '::ffff:808:808', '::ffff:a9fe:a9fe'])(
      'SPEC-NOTES 5: IPv4-mapped %s is blocked, whatever IPv4 it carries',
      (address) => {
        expect(expectBlocked(address)).toContain('::ffff:0:0/96');
      },
    );

    it.each(['::7f00:1', '::808:808'])('SPEC-NOTES 5: IPv4-compatible %s is blocked', (address) => {
      expect(expectBlocked(address)).toContain('::/96');
    });

    it('SPEC-NOTES 5: IPv4-compatible ::127.0.0.1 (dotted form) is blocked', () => {
      // ipaddr.js reads the dotted `::a.b.c.d` form as IPv4-mapped, so the reason may name
      // either prefix; both are blocked.
      expect(expectBlocked('::127.0.0.1')).toMatch(/::ffff:0:0\/96|::\/96/);
    });

    it('SPEC-NOTES 5: NAT64 64:ff9b::a00:1 (10.0.0.1) is blocked, 64:ff9b::808:808 (8.8.8.8) is not', () => {
      expect(expectBlocked('64:ff9b::a00:1')).toContain('10.0.0.1');
      expect(checkAddress('64:ff9b::808:808')).toEqual({ blocked: false });
    });

    it('SPEC-NOTES 5: 6to4 2002:a00:1:: (10.0.0.1) and 2002:7f00:1::1 (127.0.0.1) are blocked, 2002:808:808:: is not', () => {
      expect(expectBlocked('2002:a00:1::')).toContain('10.0.0.1');
      expect(expectBlocked('2002:7f00:1::1')).toContain('127.0.0.1');
      expect(checkAddress('2002:808:808::')).toEqual({ blocked: false });
    });
  });

  describe('SPEC-NOTES 5: unspecified, zones, other IPv6 and non-IP input', () => {
    it('SPEC-NOTES 5: the unspecified addresses 0.0.0.0 and :: are blocked', () => {
      expect(expectBlocked('0.0.0.0')).toContain('0.0.0.0/8');
      expect(expectBlocked('::')).toContain('::/128');
    });

    it.each(['fe80::1%eth0', 'fe80::1%1', '[fe80::1%25eth0]', '2606:4700:4700::1111%eth0'])(
      'SPEC-NOTES 5: %s, with a zone id, is blocked',
      (address) => {
        expect(expectBlocked(address)).toMatch(/zone/);
      },
    );

    it.each(['4000::1', '1000::1', 'e000::1'])(
      'SPEC-NOTES 5: %s outside IPv6 global unicast (2000::/3) is blocked',
      (address) => {
        expect(expectBlocked(address)).toContain('2000::/3');
      },
    );

    it.each(['', 'localhost', 'example.com', '1.2.3.4.5', '256.0.0.1', ':::1', 'fe80::1::2', ' 8.8.8.8', '8.8.8.8\n'])(
      'SPEC-NOTES 5: non-IP string %j is blocked with a reason',
      (address) => {
        expect(expectBlocked(address)).toContain('is not an IP address');
      },
    );

    it.each(['2130706433', '0177.0.0.1', '0x7f.0.0.1', '0x7f000001', '127.1', '010.0.0.1'])(
      'SPEC-NOTES 5: non-canonical IPv4 %s is refused outright, whatever a parser would read it as',
      (address) => {
        expect(expectBlocked(address)).toContain('is not an IP address in canonical form');
      },
    );
  });

  describe('SPEC-NOTES 5: AddressAllowList', () => {
    it('SPEC-NOTES 5: 127.0.0.1/32 exempts 127.0.0.1 and nothing else of 127/8', () => {
      const allow = new AddressAllowList(['127.0.0.1/32']);
      expect(allow.size).toBe(1);
      expect(checkAddress('127.0.0.1', allow)).toEqual({ blocked: false });
      expect(expectBlocked('127.0.0.2', allow)).toContain('127.0.0.0/8');
      expect(expectBlocked('127.255.255.255', allow)).toContain('127.0.0.0/8');
      expect(expectBlocked('::1', allow)).toContain('::1/128');
      // The IPv4-mapped form is IPv6 and is not covered by an IPv4 CIDR.
      expect(expectBlocked('::ffff:127.0.0.1', allow)).toContain('::ffff:0:0/96');
      expect(expectBlocked('10.0.0.1', allow)).toContain('10.0.0.0/8');
    });

    it('SPEC-NOTES 5: an IPv6 CIDR exempts exactly its addresses', () => {
      const allow = new AddressAllowList(['::1/128', 'fd00::/64']);
      expect(checkAddress('::1', allow)).toEqual({ blocked: false });
      expect(checkAddress('fd00::2', allow)).toEqual({ blocked: false });
      expect(expectBlocked('fd00:0:0:1::2', allow)).toContain('fc00::/7');
      expect(expectBlocked('127.0.0.1', allow)).toContain('127.0.0.0/8');
    });

    it('SPEC-NOTES 5: an exempt IPv4 is not exempt in its NAT64 and 6to4 forms', () => {
      // Exemptions match addresses as written; a translated form is a different address.
      const allow = new AddressAllowList(['127.0.0.1/32']);
      expect(checkAddress('127.0.0.1', allow)).toEqual({ blocked: false });
      expect(expectBlocked('64:ff9b::7f00:1', allow)).toContain('127.0.0.1');
      expect(expectBlocked('2002:7f00:1::1', allow)).toContain('127.0.0.1');
    });

    it('SPEC-NOTES 5: no exemptions by default', () => {
      expect(new AddressAllowList().size).toBe(0);
      expectBlocked('127.0.0.1', new AddressAllowList());
    });

    it.each(['nonsense', '127.0.0.1', '10.0.0.0/33', '::1/129', '', 'localhost/8'])(
      'SPEC-NOTES 5: bad CIDR %j throws RangeError',
      (cidr) => {
        expect(() => new AddressAllowList([cidr])).toThrow(RangeError);
      },
    );
  });

  describe('SPEC-NOTES 5: properties', () => {
    const privateV4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16'].map((cidr) => {
      const [network, prefix] = ipaddr.parseCIDR(cidr);
      return { cidr, base: Number(toBig(network)), size: 2 ** (32 - prefix) };
    });
    const insidePrivate = fc
      .constantFrom(...privateV4)
      .chain(({ cidr, base, size }) =>
        fc.integer({ min: 0, max: size - 1 }).map((offset) => ({ cidr, address: fromBig(BigInt(base + offset), 4) })),
      );

    it('SPEC-NOTES 5: any IPv4 in 10/8, 172.16/12, 192.168/16, 127/8, 169.254/16 is blocked, also IPv4-mapped', () => {
      fc.assert(
        fc.property(insidePrivate, ({ cidr, address }) => {
          const v4 = checkAddress(address);
          const mappedDotted = checkAddress(`::ffff:${address}`);
          const mappedHex = checkAddress(ipaddr.IPv4.parse(address).toIPv4MappedAddress().toString());
          return (
            v4.blocked &&
            v4.reason.includes(cidr) &&
            mappedDotted.blocked &&
            mappedDotted.reason.includes('::ffff:0:0/96') &&
            mappedHex.blocked
          );
        }),
        { numRuns: 2000 },
      );
    });

    it('SPEC-NOTES 5: NAT64 and 6to4 forms of those addresses are blocked too', () => {
      fc.assert(
        fc.property(insidePrivate, ({ address }) => {
          const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(address).octets;
          const hi = ((a << 8) | b).toString(16);
          const lo = ((c << 8) | d).toString(16);
          return checkAddress(`64:ff9b::${hi}:${lo}`).blocked && checkAddress(`2002:${hi}:${lo}::1`).blocked;
        }),
        { numRuns: 1000 },
      );
    });
  });
});
