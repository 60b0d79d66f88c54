import { CacheEntry, checkClientIdUrl, clientHealth, FetchAttempt, freshnessLabel, lastFailure } from '@cimd/core';
import { ClientCacheRepository } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import { invalidRequest, notFound, unavailable } from '../common/domain-error';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { attemptView } from './explained';

/** A cache entry as the APIs show it: times as ISO strings, the logo as the gateway's own URL. */
export type ClientView = ReturnType<typeof clientView>;

export function clientView(entry: CacheEntry, publicUrl: string, now = Date.now()) {
  const {
    v: _v,
    ttl_seconds: _ttl,
    logo,
    keys,
    fetched_at,
    refresh_at,
    expires_at,
    first_seen_at,
    last_error,
    ...rest
  } = entry;
  return {
    ...rest,
    ...(keys
      ? {
          keys: {
            jwks_uri: keys.jwks_uri,
            status: keys.status,
            fetched_at: new Date(keys.fetched_at).toISOString(),
            key_ids: (keys.jwks?.keys ?? []).map((k) => (typeof k.kid === 'string' ? k.kid : '')),
            errors: keys.errors ?? [],
          },
        }
      : {}),
    freshness: freshnessLabel(entry, now),
    fetched_at: new Date(fetched_at).toISOString(),
    refresh_at: new Date(refresh_at).toISOString(),
    expires_at: new Date(expires_at).toISOString(),
    ...(first_seen_at !== undefined ? { first_seen_at: new Date(first_seen_at).toISOString() } : {}),
    ...(logo ? { logo_url: logoUrl(publicUrl, logo.sha256) } : {}),
    ...(last_error ? { last_error: { ...last_error, at: new Date(last_error.at).toISOString() } } : {}),
  };
}

/** Where browsers load a prefetched logo: the gateway's own copy, never the client's host (SPEC-NOTES 21). */
export function logoUrl(publicUrl: string, sha256: string): string {
  return `${publicUrl}/v1/logos/${sha256}`;
}

/** Look-ups of the shared client cache, for the HTTP and gRPC APIs. */
@Injectable()
export class ClientsService {
  constructor(
    private readonly cache: ClientCacheRepository,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {}

  /**
   * The cached view of `clientId`: a 400 for a client_id that could never be cached, 404 when not
   * cached (saying why its last fetch failed, when one did).
   */
  async find(clientId: string): Promise<ClientView> {
    const { entry, attempts } = await this.read(clientId, false);
    if (!entry) throw notCached(attempts);
    return clientView(entry, this.config.publicUrl);
  }

  /**
   * The client's attempt log, with or without a cached document: what its last fetches did and
   * when the next is due. Kept for a client that never had a valid document too; never a
   * document itself (SPEC-NOTES 15). 404 when there is neither an entry nor an attempt.
   */
  async attempts(clientId: string) {
    const { entry, attempts } = await this.read(clientId, true);
    if (!entry && attempts.length === 0) throw notCached(attempts);
    let standing = { failing: false, suspect: false };
    try {
      [standing = standing] = await this.cache.standings([clientId]);
    } catch {
      throw unavailable('the client cache is unreachable; try again shortly');
    }
    const latest = attempts[0];
    return {
      client_id: clientId,
      cached: entry !== undefined,
      ...(entry ? { status: entry.status } : {}),
      health: clientHealth({ ...standing, ...(entry ? { entryStatus: entry.status } : {}) }),
      attempts: attempts.map(attemptView),
      ...(latest?.next ? { next_attempt: { kind: latest.next.kind, at: new Date(latest.next.at).toISOString() } } : {}),
    };
  }

  private async read(clientId: string, withAttempts: boolean) {
    // A client_id that breaks the URL rules is never fetched, so never cached: say why instead of 404.
    const check = checkClientIdUrl(clientId);
    if (!check.valid)
      throw invalidRequest(check.errors[0]?.message ?? 'client_id is not a valid client identifier URL');
    try {
      const entry = await this.cache.get(clientId);
      // The attempt log is read only when asked, or to say why a client is not cached.
      const attempts = withAttempts || !entry ? await this.cache.attempts(clientId) : [];
      return { entry, attempts };
    } catch {
      throw unavailable('the client cache is unreachable; try again shortly');
    }
  }
}

function notCached(attempts: readonly FetchAttempt[]) {
  const failure = lastFailure(attempts);
  return notFound(
    failure
      ? `this client_id is not in the cache: its last fetch, at ${new Date(failure.at).toISOString()}, failed (${failure.code}: ${failure.message}); GET /v1/clients/attempts lists its attempts`
      : 'this client_id is not in the cache; an authorize check or a refresh fetches it',
  );
}

export type ClientAttemptsView = Awaited<ReturnType<ClientsService['attempts']>>;
