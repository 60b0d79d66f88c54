import { CacheEntry, ClientEvent, FetchAttempt, parseCacheEntry, parseFetchAttempts } from '@cimd/core';
import { EVENT_STREAM_MAXLEN, eventFields, RedisKeys } from '@cimd/contracts';
import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { InjectRedis } from './redis.tokens';

/** A prefetched logo as stored: its checked content type and its bytes. */
export interface StoredLogo {
  contentType: string;
  body: Buffer;
}

/** How much fetch history Redis keeps per client and fleet-wide. */
export const ATTEMPT_LOG = {
  /** Attempts kept per client, newest first. */
  perClient: 10,
  /** How long a client's attempt log (and its refused body) outlives its last attempt. */
  ttlMs: 24 * 3600_000,
  /** Clients kept in each of the failing and suspect indexes (the most recent). */
  indexed: 5000,
} as const;

/** What one attempt leaves in the fleet-wide indexes: failing (a transient failure), suspect (since when). */
export interface AttemptStanding {
  failing: boolean;
  suspectSince?: number;
  /** The refused document's text to keep for operators; null to drop the one kept; undefined leaves it. */
  refusedBody?: string | null;
}

/**
 * The shared client cache in Redis: one entry per client_id (CacheEntry, JSON), the logos
 * the entries point at, and the client event stream the fetcher appends to in the same
 * transaction as the entry it writes; and, for operators, each client's attempt log and the
 * fleet-wide indexes of failing and suspect clients. The only code that touches these keys.
 */
@Injectable()
export class ClientCacheRepository {
  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async get(clientId: string): Promise<CacheEntry | undefined> {
    return parseCacheEntry(await this.redis.get(this.keys.clientEntry(clientId)));
  }

  /** Entries of several clients in one round trip, in the order asked. */
  async getMany(clientIds: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    if (clientIds.length === 0) return [];
    const raw = await this.redis.mget(...clientIds.map((id) => this.keys.clientEntry(id)));
    return raw.map((json) => parseCacheEntry(json));
  }

  /** Write the entry for `ttlMs` and append its events: together or not at all. */
  async write(entry: CacheEntry, ttlMs: number, events: readonly ClientEvent[]): Promise<void> {
    const tx = this.redis.multi().set(this.keys.clientEntry(entry.client_id), JSON.stringify(entry), 'PX', ttlMs);
    for (const e of events)
      tx.xadd(this.keys.events, 'MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', ...eventFields(e));
    const result = await tx.exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed)
      throw new Error(`writing the cache entry failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
  }

  /** Replace the entry, keeping its time to live (a note on it: suspect, last error). */
  async note(entry: CacheEntry): Promise<void> {
    await this.redis.set(this.keys.clientEntry(entry.client_id), JSON.stringify(entry), 'KEEPTTL');
  }

  /**
   * Append one fetch attempt to the client's log (bounded, with a time to live), and keep the
   * failing and suspect indexes in step with it: together or not at all.
   */
  async recordAttempt(clientId: string, attempt: FetchAttempt, standing: AttemptStanding): Promise<void> {
    const log = this.keys.fetchAttempts(clientId);
    const horizon = attempt.at - ATTEMPT_LOG.ttlMs;
    const tx = this.redis
      .multi()
      .lpush(log, JSON.stringify(attempt))
      .ltrim(log, 0, ATTEMPT_LOG.perClient - 1)
      .pexpire(log, ATTEMPT_LOG.ttlMs);
    if (standing.failing) tx.zadd(this.keys.failingClients, attempt.at, clientId);
    else tx.zrem(this.keys.failingClients, clientId);
    if (standing.suspectSince !== undefined) tx.zadd(this.keys.suspectClients, standing.suspectSince, clientId);
    else tx.zrem(this.keys.suspectClients, clientId);
    for (const index of [this.keys.failingClients, this.keys.suspectClients]) {
      tx.zremrangebyscore(index, '-inf', horizon);
      tx.zremrangebyrank(index, 0, -(ATTEMPT_LOG.indexed + 1));
    }
    if (standing.refusedBody === null) tx.del(this.keys.refusedBody(clientId));
    else if (standing.refusedBody !== undefined)
      tx.set(this.keys.refusedBody(clientId), standing.refusedBody, 'PX', ATTEMPT_LOG.ttlMs);
    const result = await tx.exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed)
      throw new Error(`recording the fetch attempt failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
  }

  /** The client's recent fetch attempts, newest first. */
  async attempts(clientId: string): Promise<FetchAttempt[]> {
    return parseFetchAttempts(await this.redis.lrange(this.keys.fetchAttempts(clientId), 0, ATTEMPT_LOG.perClient - 1));
  }

  /** The latest attempt of each client, in the order asked (one round trip). */
  async latestAttempts(clientIds: readonly string[]): Promise<(FetchAttempt | undefined)[]> {
    if (clientIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of clientIds) pipeline.lindex(this.keys.fetchAttempts(id), 0);
    const results = (await pipeline.exec()) ?? [];
    return clientIds.map((_, i) => {
      const raw = results[i]?.[1];
      return typeof raw === 'string' ? parseFetchAttempts([raw])[0] : undefined;
    });
  }

  /** The text of the client's last refused document, if one is kept. */
  async refusedBody(clientId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.refusedBody(clientId))) ?? undefined;
  }

  /** Every client in the failing or the suspect index (each bounded), most recent first. */
  async indexedClients(index: 'failing' | 'suspect'): Promise<string[]> {
    const key = index === 'failing' ? this.keys.failingClients : this.keys.suspectClients;
    return this.redis.zrevrange(key, 0, ATTEMPT_LOG.indexed - 1);
  }

  /** For each client, whether it is in the failing and the suspect index (one round trip). */
  async standings(clientIds: readonly string[]): Promise<{ failing: boolean; suspect: boolean }[]> {
    if (clientIds.length === 0) return [];
    const [failing, suspect] = await Promise.all([
      this.redis.zmscore(this.keys.failingClients, ...clientIds),
      this.redis.zmscore(this.keys.suspectClients, ...clientIds),
    ]);
    return clientIds.map((_, i) => ({ failing: failing[i] !== null, suspect: suspect[i] !== null }));
  }

  async logo(sha256: string): Promise<StoredLogo | undefined> {
    const stored = await this.redis.getBuffer(this.keys.logo(sha256));
    const newline = stored ? stored.indexOf(10) : -1;
    if (!stored || newline < 0) return undefined;
    return { contentType: stored.subarray(0, newline).toString('latin1'), body: stored.subarray(newline + 1) };
  }

  /** Stored with its content type in front, so the gateway serves exactly what was checked. */
  async storeLogo(sha256: string, logo: StoredLogo, ttlMs: number): Promise<void> {
    await this.redis.set(
      this.keys.logo(sha256),
      Buffer.concat([Buffer.from(`${logo.contentType}\n`), logo.body]),
      'PX',
      ttlMs,
    );
  }

  /** Keep a stored logo `ttlMs` longer; false when it is no longer stored. */
  async extendLogo(sha256: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.pexpire(this.keys.logo(sha256), ttlMs)) === 1;
  }
}
