import {
  CacheEntry,
  ClientEvent,
  ClientEventSchema,
  FetchAttempt,
  parseCacheEntry,
  parseFetchAttempts,
} from '@cimd/core';
import { CHANNELS, EVENT_STREAM_MAXLEN, eventFields, FetchDoneMessage, RedisKeys } from '@cimd/contracts';
import { Injectable } from '@nestjs/common';
import type { RedisClient } from './redis-connections';
import { InjectRedis } from './redis.tokens';

/** A prefetched logo as stored: its checked content type and its bytes. */
export interface StoredLogo {
  contentType: string;
  body: Buffer;
}

/** A cache entry as the fetcher reads it before a fetch: with the events of an earlier write not yet relayed. */
export interface EntryForWrite {
  entry: CacheEntry | undefined;
  /** The client's outbox, oldest first (see `write`); relay it before anything else. */
  outbox: string[];
}

/**
 * The events of a written entry are in the client's outbox but not (all) on the event stream:
 * the entry stands, and the outbox must be relayed again (`relay`) before the write counts as done.
 */
export class EventRelayError extends Error {
  constructor(message: string) {
    super(`the client events were not relayed to the event stream: ${message}`);
    this.name = 'EventRelayError';
  }
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
 * the entries point at, the events the fetcher writes with an entry, and, for operators, each
 * client's attempt log and the fleet-wide indexes of failing and suspect clients. The only code
 * that touches these keys.
 *
 * An entry and its events land together or not at all, and every event reaches the client
 * event stream at least once. On one server a transaction holds both. In a Redis Cluster the
 * entry (in its client's slot) and the stream (one key, in its own slot) are on different
 * servers, so one transaction cannot: the events go into the client's outbox in the entry's
 * transaction (same hash tag, same slot), and are then relayed to the stream and removed from
 * the outbox. A relay cut short leaves them in the outbox, where the client's fetch job, which
 * is not done until they are relayed, or the client's next one finds them first (`forWrite`);
 * a relay repeated puts an event on the stream twice, which the gateway's consumer absorbs (it
 * applies each event id once).
 */
@Injectable()
export class ClientCacheRepository {
  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async get(clientId: string): Promise<CacheEntry | undefined> {
    return parseCacheEntry(await this.redis.get(this.keys.clientEntry(clientId)));
  }

  /** The entry's JSON as stored: for a reader that keeps what it parsed while the bytes stay the same. */
  getRaw(clientId: string): Promise<string | null> {
    return this.redis.get(this.keys.clientEntry(clientId));
  }

  /**
   * Entries of several clients, in the order asked: one MGET on one server; in a cluster, where
   * the keys lie in different slots, one GET each (sent together).
   */
  async getMany(clientIds: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    if (clientIds.length === 0) return [];
    const keys = clientIds.map((id) => this.keys.clientEntry(id));
    const raw = this.redis.isCluster
      ? await Promise.all(keys.map((key) => this.redis.get(key)))
      : await this.redis.mget(...keys);
    return raw.map((json) => parseCacheEntry(json));
  }

  /** The entry and the client's outbox, in one round trip (one slot). */
  async forWrite(clientId: string): Promise<EntryForWrite> {
    const result = await this.redis
      .pipeline()
      .get(this.keys.clientEntry(clientId))
      .lrange(this.keys.clientOutbox(clientId), 0, -1)
      .exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed) throw failed?.[0] ?? new Error('reading the cache entry failed');
    return { entry: parseCacheEntry(result[0]?.[1] as string | null), outbox: (result[1]?.[1] as string[]) ?? [] };
  }

  /**
   * Write the entry for `ttlMs` with its events, together or not at all. On one server, one
   * transaction holds the entry and the stream appends. In a cluster, one transaction in the
   * client's slot holds the entry and its outbox, which is then relayed to the stream: throws
   * EventRelayError when the entry is written but its events are still (partly) in the outbox.
   *
   * `notice`: the fetch-done notice, published in the same transaction, so that it goes out the
   * moment the entry is there (a gateway woken by it reads this entry) and never for a write
   * that did not happen. PUBLISH names no key: a cluster node takes it in any slot's transaction
   * and passes it to every node.
   */
  async write(
    entry: CacheEntry,
    ttlMs: number,
    events: readonly ClientEvent[],
    notice?: FetchDoneMessage,
  ): Promise<void> {
    const tx = this.redis.multi().set(this.keys.clientEntry(entry.client_id), JSON.stringify(entry), 'PX', ttlMs);
    const outbox = this.keys.clientOutbox(entry.client_id);
    if (!this.redis.isCluster) {
      for (const e of events) tx.xadd(this.keys.events, ...streamEntry(e));
    } else {
      if (events.length > 0) tx.rpush(outbox, ...events.map((e) => JSON.stringify(e)));
      tx.lrange(outbox, 0, -1);
    }
    if (notice) tx.publish(CHANNELS.fetchDone.name(this.keys), JSON.stringify(notice));
    const result = await tx.exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed)
      throw new Error(`writing the cache entry failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    if (this.redis.isCluster) {
      const outboxRead = result.at(notice ? -2 : -1)?.[1] as string[] | undefined;
      await this.relay(entry.client_id, outboxRead ?? []);
    }
  }

  /**
   * Append the outbox's events (as read: oldest first) to the event stream, then take them out
   * of the outbox. Throws EventRelayError when either step fails; what was appended stays
   * appended, and what was not removed is appended again by the next relay.
   */
  async relay(clientId: string, outbox: readonly string[]): Promise<void> {
    if (outbox.length === 0) return;
    const append = this.redis.pipeline();
    for (const item of outbox) {
      const event = parseOutboxItem(item);
      // Not an event (never written by `write`): nothing to relay, only to remove.
      if (event) append.xadd(this.keys.events, ...streamEntry(event));
    }
    if (append.length > 0) await settled(append.exec(), 'appending to the event stream');
    const remove = this.redis.pipeline();
    // By value, not by position: another relay of the same client may have removed some already.
    for (const item of outbox) remove.lrem(this.keys.clientOutbox(clientId), 1, item);
    await settled(remove.exec(), 'clearing the outbox');
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
    // The client's keys share its slot; the two indexes share theirs: two transactions in a cluster.
    const client = this.redis
      .multi()
      .lpush(log, JSON.stringify(attempt))
      .ltrim(log, 0, ATTEMPT_LOG.perClient - 1)
      .pexpire(log, ATTEMPT_LOG.ttlMs);
    if (standing.refusedBody === null) client.del(this.keys.refusedBody(clientId));
    else if (standing.refusedBody !== undefined)
      client.set(this.keys.refusedBody(clientId), standing.refusedBody, 'PX', ATTEMPT_LOG.ttlMs);
    const index = this.redis.multi();
    if (standing.failing) index.zadd(this.keys.failingClients, attempt.at, clientId);
    else index.zrem(this.keys.failingClients, clientId);
    if (standing.suspectSince !== undefined) index.zadd(this.keys.suspectClients, standing.suspectSince, clientId);
    else index.zrem(this.keys.suspectClients, clientId);
    for (const key of [this.keys.failingClients, this.keys.suspectClients]) {
      index.zremrangebyscore(key, '-inf', horizon);
      index.zremrangebyrank(key, 0, -(ATTEMPT_LOG.indexed + 1));
    }
    for (const result of await Promise.all([client.exec(), index.exec()])) {
      const failed = result?.find(([err]) => err);
      if (!result || failed)
        throw new Error(`recording the fetch attempt failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    }
  }

  /** The client's recent fetch attempts, newest first. */
  async attempts(clientId: string): Promise<FetchAttempt[]> {
    return parseFetchAttempts(await this.redis.lrange(this.keys.fetchAttempts(clientId), 0, ATTEMPT_LOG.perClient - 1));
  }

  /** The latest attempt of each client, in the order asked (one round trip). */
  async latestAttempts(clientIds: readonly string[]): Promise<(FetchAttempt | undefined)[]> {
    if (clientIds.length === 0) return [];
    // In a cluster the logs are in their clients' slots: one LINDEX each, not one pipeline.
    const raw = this.redis.isCluster
      ? await Promise.all(clientIds.map((id) => this.redis.lindex(this.keys.fetchAttempts(id), 0)))
      : (
          (await this.redis.pipeline(clientIds.map((id) => ['lindex', this.keys.fetchAttempts(id), '0'])).exec()) ?? []
        ).map(([, value]) => value);
    return raw.map((value) => (typeof value === 'string' ? parseFetchAttempts([value])[0] : undefined));
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

/** XADD's arguments after the key: the stream trimmed to about EVENT_STREAM_MAXLEN, a new id, the event's fields. */
function streamEntry(e: ClientEvent): [string, string, string, string, ...string[]] {
  return ['MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', ...eventFields(e)];
}

function parseOutboxItem(item: string): ClientEvent | undefined {
  try {
    const parsed = ClientEventSchema.safeParse(JSON.parse(item));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A pipeline's replies, or EventRelayError naming the step when any command failed. */
async function settled(replies: Promise<[Error | null, unknown][] | null>, step: string): Promise<void> {
  let result: [Error | null, unknown][] | null;
  try {
    result = await replies;
  } catch (e) {
    throw new EventRelayError(`${step}: ${(e as Error).message}`);
  }
  const failed = result?.find(([err]) => err);
  if (!result || failed) throw new EventRelayError(`${step}: ${failed?.[0]?.message ?? 'no reply'}`);
}
