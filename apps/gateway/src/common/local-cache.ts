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

/** A load under way: concurrent callers share it; an invalidation detaches it (it is then answered, not kept). */
interface Loading<V> {
  promise: Promise<V | undefined>;
}

/**
 * The gateway's in-process copies of what it reads on every request (API keys, tenant
 * policies, cache entries), on lru-cache: bounded, expiring, one load at a time per key, and
 * dropped at once by `invalidate` when another process announces a change. A load that an
 * invalidation overtook is answered by a read made after it, and not kept, so a copy is never
 * older than its invalidation.
 *
 * Loads are shared through a map of promises rather than lru-cache's `fetch`, which makes an
 * AbortController for every load: with a reload per client a second, those signals outlived
 * two scavenges and were a large share of what reached the old generation.
 */
export class LocalCache<V extends object, C = undefined> {
  private readonly lru?: LRUCache<string, V>;
  private readonly loading = new Map<string, Loading<V>>();

  constructor(private readonly options: LocalCacheOptions<V, C>) {
    if (options.ttlMs <= 0) return;
    this.lru = new LRUCache<string, V>({
      max: options.max,
      ttl: options.ttlMs,
      // An expired copy stays (not served by get) for the loader and serveStaleOnLoadFailure.
      noDeleteOnStaleGet: true,
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
  load(key: string, context: C): Promise<V | undefined> {
    if (!this.lru) return this.options.load(key, context);
    const fresh = this.lru.get(key);
    if (fresh !== undefined) return Promise.resolve(fresh);
    let loading = this.loading.get(key);
    if (!loading) {
      const started = {} as Loading<V>;
      this.loading.set(key, started);
      started.promise = this.reload(this.lru, key, context, started);
      loading = started;
    }
    return loading.promise;
  }

  private async reload(lru: LRUCache<string, V>, key: string, context: C, self: Loading<V>): Promise<V | undefined> {
    const expired = lru.get(key, { allowStale: true });
    let value: V | undefined;
    try {
      value = await this.options.load(key, context, expired);
    } catch {
      if (this.loading.get(key) !== self) return this.options.load(key, context);
      this.loading.delete(key);
      if (this.options.serveStaleOnLoadFailure && expired !== undefined) return expired;
      // A second failure is the real error.
      return this.options.load(key, context);
    }
    // Overtaken by an invalidation: what is read now answers this request without being kept.
    if (this.loading.get(key) !== self) return this.options.load(key, context);
    this.loading.delete(key);
    if (value === undefined) lru.delete(key);
    else lru.set(key, value);
    return value;
  }

  /** Another process changed what `key` stands for: read it again next time. */
  invalidate(key: string): void {
    this.loading.delete(key);
    this.lru?.delete(key);
  }

  clear(): void {
    this.loading.clear();
    this.lru?.clear();
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
