import { clientKey } from './client-key';

/**
 * Every Redis key the gateway and the fetcher share, in one place. The prefix isolates
 * deployments (and test files) sharing one Redis.
 *
 * Hash tags (`{…}`) keep what one operation touches together in one Redis Cluster slot: a
 * client's keys (its entry, its event outbox, its failure counter, its tenants' revocation
 * marks) all carry `{<client key>}`, and BullMQ's keys all carry `{bull}` through the queue
 * prefix. The same names on one server, so a deployment can move to a cluster as it is.
 */
export class RedisKeys {
  constructor(readonly prefix = 'cimd') {
    if (!/^[A-Za-z0-9_-]+$/.test(prefix))
      throw new RangeError(`Redis prefix ${JSON.stringify(prefix)} must be letters, digits, _ or -`);
  }

  /** The cache entry of one client_id (JSON, see CacheEntry). */
  clientEntry(clientId: string): string {
    return `${this.prefix}:client:${clientTag(clientId)}`;
  }

  /**
   * Events of one client written with its entry (in the same transaction, so in the same slot)
   * and not yet relayed to the event stream (a list of JSON ClientEvents, oldest first).
   */
  clientOutbox(clientId: string): string {
    return `${this.prefix}:outbox:${clientTag(clientId)}`;
  }

  /** A prefetched logo, by the SHA-256 of its bytes, so identical logos are stored once. */
  logo(sha256: string): string {
    return `${this.prefix}:logo:${sha256}`;
  }

  /** Consecutive transient failures of one client_id; its TTL is the retry cooldown. */
  fetchFailures(clientId: string): string {
    return `${this.prefix}:fetch-failures:${clientTag(clientId)}`;
  }

  /**
   * The client's attempt log: its last fetch attempts, newest first (JSON FetchAttempt records,
   * a bounded list with a time to live), for operators and the reason of a `pending` decision.
   */
  fetchAttempts(clientId: string): string {
    return `${this.prefix}:fetch-attempts:${clientTag(clientId)}`;
  }

  /** The body of the client's last refused document, as text: shown to operators, never served as a document. */
  refusedBody(clientId: string): string {
    return `${this.prefix}:refused-body:${clientTag(clientId)}`;
  }

  /** Sorted set (score: time) of the clients whose last fetch failed transiently; bounded. */
  get failingClients(): string {
    return `${this.prefix}:clients-failing:{client-index}`;
  }

  /** Sorted set (score: since) of the valid clients awaiting the confirmation of a vanished or broken document; bounded. */
  get suspectClients(): string {
    return `${this.prefix}:clients-suspect:{client-index}`;
  }

  /** Fetches started towards one origin in the current rate-limit window. */
  originWindow(origin: string, window: number): string {
    return `${this.prefix}:origin-rate:${clientKey(origin)}:${window}`;
  }

  /**
   * A registered session's state, kept so a session check needs no database (SessionState).
   * Laid out as the revocation marks are (tag first, tenant last); a session is read alone.
   */
  session(tenantId: string, sessionId: string): string {
    return `${this.prefix}:session:{${clientKey(sessionId)}}:${tenantId}`;
  }

  /**
   * Set when a tenant's sessions of a client were revoked in bulk: sessions created before `at`
   * are over. Tagged by the client: one transaction sets the marks of every tenant.
   */
  clientRevocation(tenantId: string, clientId: string): string {
    return `${this.prefix}:client-revoked:${clientTag(clientId)}:${tenantId}`;
  }

  /**
   * A client assertion's jti, used once per tenant and client until the assertion expires. Takes
   * the client's key (clientKey), which the caller holds: one hash fewer per authentication.
   */
  assertionJti(tenantId: string, client: string, jti: string): string {
    return `${this.prefix}:jti:{${client}}:${tenantId}:${clientKey(jti)}`;
  }

  /** Set while a client's keys were fetched again for an unknown kid: at most one such fetch a minute, fleet-wide. */
  keysRefreshGate(clientId: string): string {
    return `${this.prefix}:keys-refresh:${clientTag(clientId)}`;
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

  /** The Redis Stream of client events (client.fetched, client.changed, …): one key, in one slot. */
  get events(): string {
    return `${this.prefix}:events`;
  }

  /**
   * BullMQ's own key prefix for this deployment's queues. Hash-tagged, as BullMQ requires on a
   * Redis Cluster: its Lua scripts touch several keys of a queue at once.
   */
  get queuePrefix(): string {
    return `${this.prefix}:{bull}`;
  }
}

/** `{<client key>}`: the hash tag of every key of one client. */
function clientTag(clientId: string): string {
  return `{${clientKey(clientId)}}`;
}
