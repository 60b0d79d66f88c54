import type { ClientStatus } from '../cache/cache-entry';

/**
 * How a client stands, as an operator filters the fleet: its cache status (valid, invalid,
 * gone), or `suspect` (a valid client whose document just vanished or broke, awaiting the
 * confirmation fetch), `failing` (its last fetch failed transiently: DNS, timeout, TLS, 5xx…),
 * or `unfetched` (known, but no fetch has told anything yet).
 */
export const CLIENT_HEALTHS = ['valid', 'suspect', 'failing', 'invalid', 'gone', 'unfetched'] as const;
export type ClientHealth = (typeof CLIENT_HEALTHS)[number];

/**
 * The health of one client: suspect before failing (a suspect client is being confirmed, whatever
 * the last try), failing before the stored status (the last word is a failure), then the cache
 * entry's status, then the registry's (the entry may have expired from Redis).
 */
export function clientHealth(input: {
  suspect: boolean;
  failing: boolean;
  entryStatus?: ClientStatus;
  registryStatus?: string | null;
}): ClientHealth {
  if (input.suspect) return 'suspect';
  if (input.failing) return 'failing';
  const status = input.entryStatus ?? input.registryStatus;
  return status === 'valid' || status === 'invalid' || status === 'gone' ? status : 'unfetched';
}
