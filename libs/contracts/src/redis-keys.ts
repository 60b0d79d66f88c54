import { clientKey } from './client-key';

/**
 * Every Redis key the gateway and the fetcher share, in one place. The prefix isolates
 * deployments (and test files) sharing one Redis.
 */
export class RedisKeys {
  constructor(readonly prefix = 'cimd') {
    if (!/^[A-Za-z0-9_-]+$/.test(prefix))
      throw new RangeError(`Redis prefix ${JSON.stringify(prefix)} must be letters, digits, _ or -`);
  }

  /** The cache entry of one client_id (JSON, see CacheEntry). */
  clientEntry(clientId: string): string {
    return `${this.prefix}:client:${clientKey(clientId)}`;
  }

  /** A prefetched logo, by the SHA-256 of its bytes, so identical logos are stored once. */
  logo(sha256: string): string {
    return `${this.prefix}:logo:${sha256}`;
  }

  /** Consecutive transient failures of one client_id; its TTL is the retry cooldown. */
  fetchFailures(clientId: string): string {
    return `${this.prefix}:fetch-failures:${clientKey(clientId)}`;
  }

  /** Fetches started towards one origin in the current rate-limit window. */
  originWindow(origin: string, window: number): string {
    return `${this.prefix}:origin-rate:${clientKey(origin)}:${window}`;
  }

  /** A registered session's state, kept so a session check needs no database (SessionState). */
  session(tenantId: string, sessionId: string): string {
    return `${this.prefix}:session:${tenantId}:${clientKey(sessionId)}`;
  }

  /** Set when a tenant's sessions of a client were revoked in bulk: sessions created before `at` are over. */
  clientRevocation(tenantId: string, clientId: string): string {
    return `${this.prefix}:client-revoked:${tenantId}:${clientKey(clientId)}`;
  }

  /** A client assertion's jti, used once per tenant and client until the assertion expires. */
  assertionJti(tenantId: string, clientId: string, jti: string): string {
    return `${this.prefix}:jti:${tenantId}:${clientKey(clientId)}:${clientKey(jti)}`;
  }

  /** Set while a client's keys were fetched again for an unknown kid: at most one such fetch a minute, fleet-wide. */
  keysRefreshGate(clientId: string): string {
    return `${this.prefix}:keys-refresh:${clientKey(clientId)}`;
  }

  /** Pub/sub channel: a tenant event was recorded (WatchEvents streams them live). */
  get tenantEvents(): string {
    return `${this.prefix}:tenant-events`;
  }

  /** Pub/sub channel: a fetch job of some client finished (FetchDoneMessage); gateways waiting on a miss listen. */
  get fetchDone(): string {
    return `${this.prefix}:fetch-done`;
  }

  /** Pub/sub channel: a tenant's policy or keys changed; every gateway drops its in-process copy. */
  get invalidations(): string {
    return `${this.prefix}:invalidate`;
  }

  /** The Redis Stream of client events (client.fetched, client.changed, …). */
  get events(): string {
    return `${this.prefix}:events`;
  }

  /** BullMQ's own key prefix for this deployment's queues. */
  get queuePrefix(): string {
    return `${this.prefix}:bull`;
  }
}
