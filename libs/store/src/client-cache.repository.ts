import { CacheEntry, ClientEvent, parseCacheEntry } from '@cimd/core';
import { EVENT_STREAM_MAXLEN, eventFields, RedisKeys } from '@cimd/contracts';
import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { InjectRedis } from './redis.tokens';

/** A prefetched logo as stored: its checked content type and its bytes. */
export interface StoredLogo {
  contentType: string;
  body: Buffer;
}

/**
 * The shared client cache in Redis: one entry per client_id (CacheEntry, JSON), the logos
 * the entries point at, and the client event stream the fetcher appends to in the same
 * transaction as the entry it writes. The only code that touches these keys.
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
