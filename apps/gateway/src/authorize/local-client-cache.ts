import type { CacheEntry } from '@cimd/contracts';
import type { ClientIdUrlCheck } from '@cimd/core';

/** What one replica keeps of a client between two reads of Redis. */
export interface LocalClient {
  /** checkClientIdUrl of the exact client_id string: a pure verdict, kept as long as the entry. */
  url: ClientIdUrlCheck;
  entry: CacheEntry;
}

/**
 * The in-process copy of recently read cache entries in front of Redis, per replica (issue 4:
 * welcome "if it stays correct: a revocation must be visible on every replica within one
 * second"). A copy is served for at most `ttlMs` (≤ 1 s, CIMD_LOCAL_CACHE_MS) after it was
 * read, so whatever the fetcher writes (a tombstone, a changed document) is seen within that
 * time even if a notice is lost; the fetcher's fetch-done notice drops the copy at once.
 * Entries are keyed by clientKey (what the notice carries). Bounded: the oldest reads go first.
 */
export class LocalClientCache {
  private readonly copies = new Map<string, LocalClient & { readAt: number }>();
  /** Bumped by every invalidation: a read that raced one is not kept (see `generation`). */
  private invalidations = 0;

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get(key: string, now = Date.now()): LocalClient | undefined {
    const copy = this.copies.get(key);
    if (!copy) return undefined;
    if (now - copy.readAt < this.ttlMs && now >= copy.readAt) return copy;
    this.copies.delete(key);
    return undefined;
  }

  /** Taken before reading Redis and given back to `set`, so that a read older than an invalidation is dropped. */
  get generation(): number {
    return this.invalidations;
  }

  /** Keep `client` as read from Redis at `readAt`, unless an invalidation arrived since `generation`. */
  set(key: string, client: LocalClient, generation: number, readAt = Date.now()): void {
    if (!this.enabled || generation !== this.invalidations) return;
    this.copies.delete(key);
    this.copies.set(key, { ...client, readAt });
    if (this.copies.size > this.maxEntries) {
      const oldest = this.copies.keys().next();
      if (!oldest.done) this.copies.delete(oldest.value);
    }
  }

  /** The fetcher ended an attempt for this client (FetchDoneMessage.client_key): read Redis next time. */
  invalidate(key: string): void {
    this.invalidations++;
    this.copies.delete(key);
  }

  clear(): void {
    this.invalidations++;
    this.copies.clear();
  }

  get size(): number {
    return this.copies.size;
  }
}
