import { LRUCache } from 'lru-cache';

export interface LocalCacheOptions<V, C> {
  /** How long a copy is served after it was loaded; 0 turns the cache off (every read loads). */
  ttlMs: number;
  /** Copies kept at most; the least recently used go first. */
  max: number;
  /**
   * Where a missing or expired copy comes from; undefined means "there is none" (not kept).
   * `expired` is the copy being replaced, if its time ran out (never one that was invalidated):
   * a loader may return it again when what it stands for did not change.
   */
  load: (key: string, context: C, expired?: V) => Promise<V | undefined>;
  /** When a load fails, serve the expired copy if there is one (the backend is down, not the thing gone). */
  serveStaleOnLoadFailure?: boolean;
  /** For tests: the clock lru-cache reads. */
  now?: () => number;
}

/**
 * The gateway's in-process copies of what it reads on every request (API keys, tenant
 * policies, cache entries), on lru-cache: bounded, expiring, one load at a time per key, and
 * dropped at once by `invalidate` when another process announces a change. A load that an
 * invalidation overtook is answered but not kept, so a copy is never older than its invalidation.
 */
export class LocalCache<V extends object, C = undefined> {
  private readonly lru?: LRUCache<string, V, C>;

  constructor(private readonly options: LocalCacheOptions<V, C>) {
    if (options.ttlMs <= 0) return;
    this.lru = new LRUCache<string, V, C>({
      max: options.max,
      ttl: options.ttlMs,
      // An expired copy stays (not served by get) for serveStaleOnLoadFailure.
      noDeleteOnStaleGet: true,
      allowStaleOnFetchRejection: options.serveStaleOnLoadFailure ?? false,
      noDeleteOnFetchRejection: true,
      fetchMethod: async (key, expired, { context }) => options.load(key, context, expired),
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    });
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** The copy of `key` if one is fresh: no I/O, no promise. */
  get(key: string): V | undefined {
    return this.lru?.get(key);
  }

  /** The fresh copy, or a new load (shared by concurrent callers). */
  async load(key: string, context: C): Promise<V | undefined> {
    if (!this.lru) return this.options.load(key, context);
    try {
      // lru-cache types `context` by whether C can be undefined; here it is passed through as given.
      const lru = this.lru as unknown as { fetch(k: string, o: { context: C }): Promise<V | undefined> };
      return await lru.fetch(key, { context });
    } catch {
      // Overtaken by an invalidation (or a failed load with no copy to fall back on): what is
      // read now answers this request without being kept; a second failure is the real error.
      return this.options.load(key, context);
    }
  }

  /** Another process changed what `key` stands for: read it again next time. */
  invalidate(key: string): void {
    this.lru?.delete(key);
  }

  clear(): void {
    this.lru?.clear();
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
