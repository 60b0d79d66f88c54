import type { CacheEntry } from './cache-entry';

/**
 * Where a cached entry stands for a request at `now`, and what the gateway does about it:
 * - `fresh`: serve it;
 * - `refresh_due`: serve it and fetch again in the background (refresh-ahead);
 * - `stale`: expired, and the fetcher already failed since: serve it (inside the tenant's
 *   stale-if-error window) and fetch again in the background, without making the request wait;
 * - `expired`: fetch now and wait; if that fails, serve it only while `staleUntil` is ahead;
 * - `refused`: an invalid or gone client: decide on it, and look again once `refresh` says so,
 *   since a vanished or broken document may come back.
 */
export type Freshness =
  | { state: 'fresh' | 'refresh_due' | 'stale'; refresh: boolean }
  | { state: 'expired'; refresh: true; staleUntil: number }
  | { state: 'refused'; refresh: boolean };

export function freshness(entry: CacheEntry, staleIfErrorSeconds: number, now: number): Freshness {
  if (entry.status !== 'valid') return { state: 'refused', refresh: now >= entry.refresh_at };
  if (now < entry.refresh_at) return { state: 'fresh', refresh: false };
  if (now < entry.expires_at) return { state: 'refresh_due', refresh: true };
  const staleUntil = entry.expires_at + staleIfErrorSeconds * 1000;
  const failedSinceExpiry = entry.last_error !== undefined && entry.last_error.at >= entry.expires_at;
  if (failedSinceExpiry && now < staleUntil) return { state: 'stale', refresh: true };
  return { state: 'expired', refresh: true, staleUntil };
}

/** How an entry's age reads to an operator (GET /v1/clients). */
export function freshnessLabel(entry: CacheEntry, now: number): 'fresh' | 'refresh_due' | 'expired' {
  return now < entry.refresh_at ? 'fresh' : now < entry.expires_at ? 'refresh_due' : 'expired';
}
