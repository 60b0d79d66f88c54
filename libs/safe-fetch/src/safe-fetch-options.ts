import { DEFAULT_MAX_DOCUMENT_BYTES } from '@cimd/core';

/** Resolves a host name to every address it has, like `dns.lookup(name, { all: true })`. */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface SafeFetchOptions {
  /** Largest body accepted, on the wire and after decoding (SPEC-NOTES 6). */
  maxBytes: number;
  /** One deadline for the whole fetch: DNS, connect, TLS, headers and body (SPEC-NOTES 7). */
  timeoutMs: number;
  /** Ports a client_id may name; 443 unless configured. */
  allowedPorts: readonly number[];
  userAgent: string;
  /** Accept a `text/plain` body that parses as JSON (raw.githubusercontent.com serves documents so). */
  acceptTextPlain: boolean;
  /** Test and demo override: `host:port` → addresses, used instead of DNS and still checked. */
  resolve: ReadonlyMap<string, readonly string[]>;
  /** Test and demo override: extra trusted CA certificates (PEM), added to the system ones. */
  extraCa?: string;
  /** Test and demo override: CIDRs exempt from the special-use address block. */
  allowCidrs: readonly string[];
  /** DNS resolver; the system resolver unless a test injects one. */
  resolver?: Resolver;
}

export const DEFAULT_SAFE_FETCH_OPTIONS: SafeFetchOptions = {
  maxBytes: DEFAULT_MAX_DOCUMENT_BYTES,
  timeoutMs: 5000,
  allowedPorts: [443],
  userAgent: 'cimd-gateway-fetcher/0.1 (+https://github.com/cimd-gateway; OAuth Client ID Metadata Document fetcher)',
  acceptTextPlain: true,
  resolve: new Map(),
  allowCidrs: [],
};

/**
 * Parse `host:port:addr[,addr…][;host:port:addr…]` (curl's --resolve, several entries joined
 * by `;`). IPv6 addresses go in brackets: `h.test:443:[::1]`.
 */
export function parseResolveMap(spec: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const entry of spec
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^([^:\s]+):(\d{1,5}):(.+)$/.exec(entry);
    if (!m) throw new RangeError(`resolve entry ${JSON.stringify(entry)} is not host:port:address[,address…]`);
    const [, host = '', port = '', list = ''] = m;
    const addresses = list.split(',').map((a) => a.trim().replace(/^\[(.*)\]$/, '$1'));
    if (addresses.some((a) => a === '' || !/^[0-9a-fA-F:.]+$/.test(a))) {
      throw new RangeError(`resolve entry ${JSON.stringify(entry)} has an address that is not an IP address`);
    }
    const key = resolveKey(host, Number(port));
    map.set(key, [...(map.get(key) ?? []), ...addresses]);
  }
  return map;
}

export function resolveKey(host: string, port: number): string {
  return `${host.toLowerCase()}:${port}`;
}
