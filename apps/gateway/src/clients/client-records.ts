import { CacheEntry, parseCacheEntry, RedisKeys } from '@cimd/contracts';
import { checkClientIdUrl } from '@cimd/core';
import type Redis from 'ioredis';
import { badRequest, notFound, unavailable } from '../common/api-error';

/** A cache entry as the APIs show it: times as ISO strings, the logo as the gateway's own URL. */
export function clientView(entry: CacheEntry, publicUrl: string, now = Date.now()) {
  const { v: _v, logo, fetched_at, refresh_at, expires_at, first_seen_at, last_error, ...rest } = entry;
  return {
    ...rest,
    freshness: now < refresh_at ? 'fresh' : now < expires_at ? 'refresh_due' : 'expired',
    fetched_at: new Date(fetched_at).toISOString(),
    refresh_at: new Date(refresh_at).toISOString(),
    expires_at: new Date(expires_at).toISOString(),
    ...(first_seen_at !== undefined ? { first_seen_at: new Date(first_seen_at).toISOString() } : {}),
    ...(logo ? { logo_url: `${publicUrl}/v1/logos/${logo.sha256}` } : {}),
    ...(last_error ? { last_error: { ...last_error, at: new Date(last_error.at).toISOString() } } : {}),
  };
}

/** Reads of the shared client cache for the HTTP and gRPC look-ups. */
export class ClientRecords {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** The cached entry of `clientId`; a 400 for a client_id that could never be cached, 404 when not cached. */
  async find(clientId: unknown): Promise<CacheEntry> {
    if (typeof clientId !== 'string' || clientId === '') throw badRequest('client_id is required');
    // A client_id that breaks the URL rules is never fetched, so never cached: say why instead of 404.
    const check = checkClientIdUrl(clientId);
    if (!check.valid) throw badRequest(check.errors[0]?.message ?? 'client_id is not a valid client identifier URL');
    let entry: CacheEntry | undefined;
    try {
      entry = parseCacheEntry(await this.redis.get(this.keys.clientEntry(clientId)));
    } catch {
      throw unavailable('the client cache is unreachable; try again shortly');
    }
    if (!entry) throw notFound('this client_id is not in the cache; an authorize check or a refresh fetches it');
    return entry;
  }
}
