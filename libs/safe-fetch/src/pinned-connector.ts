import { AddressAllowList, checkAddress } from '@cimd/core';
import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { buildConnector } from 'undici';
import { Resolver, resolveKey } from './safe-fetch-options';

/** Raised (through the socket) when an address a name resolves to is special-use. */
export class BlockedAddressError extends Error {
  readonly code = 'CIMD_BLOCKED_ADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedAddressError';
  }
}

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export interface PinnedConnectorOptions {
  allow: AddressAllowList;
  resolve: ReadonlyMap<string, readonly string[]>;
  resolver?: Resolver;
  ca?: string[];
  timeoutMs: number;
}

/**
 * An undici connector whose DNS answer is checked and then used for the connection itself
 * (SPEC-NOTES 5): the socket's `lookup` is ours, so there is no second resolution a DNS
 * rebinding could change. Every address of the answer must pass, not only the one used.
 * IP-literal hosts never reach `lookup`, so they are checked here before connecting.
 */
export function pinnedConnector(options: PinnedConnectorOptions): buildConnector.connector {
  const byPort = new Map<number, buildConnector.connector>();
  const resolver = options.resolver ?? systemResolver;
  // One TLS context for every connection: given `ca` instead, tls.connect builds a context
  // and parses every trusted certificate per connection (~30 ms of CPU with the system roots
  // plus a test CA), which bounded a fetcher to a few dozen fetches per second. Certificate
  // and host name checks are per connection still (rejectUnauthorized, servername).
  const secureContext = createSecureContext(options.ca ? { ca: options.ca } : {});

  const connectorFor = (port: number): buildConnector.connector => {
    let connector = byPort.get(port);
    if (!connector) {
      const lookup = (hostname: string, lookupOptions: { all?: boolean }, callback: LookupCallback): void => {
        const pinned = options.resolve.get(resolveKey(hostname, port));
        const answer = pinned
          ? Promise.resolve(pinned.map((address) => ({ address, family: isIP(address) })))
          : resolver(hostname);
        answer.then(
          (addresses) => {
            if (addresses.length === 0) {
              callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), []);
              return;
            }
            for (const a of addresses) {
              const verdict = checkAddress(a.address, options.allow);
              if (verdict.blocked) {
                callback(new BlockedAddressError(`${hostname} resolves to ${a.address}: ${verdict.reason}`), []);
                return;
              }
            }
            if (lookupOptions.all) callback(null, addresses);
            else callback(null, addresses[0]?.address ?? '', addresses[0]?.family);
          },
          (err: NodeJS.ErrnoException) => callback(err, []),
        );
      };
      connector = buildConnector({
        timeout: options.timeoutMs,
        rejectUnauthorized: true,
        lookup,
        secureContext,
      });
      byPort.set(port, connector);
    }
    return connector;
  };

  return (connectOptions, callback) => {
    const hostname = connectOptions.hostname.replace(/^\[|\]$/g, '');
    const port = Number(connectOptions.port) || 443;
    if (isIP(hostname)) {
      const verdict = checkAddress(hostname, options.allow);
      if (verdict.blocked) {
        callback(new BlockedAddressError(verdict.reason), null);
        return;
      }
    }
    connectorFor(port)(connectOptions, callback);
  };
}
