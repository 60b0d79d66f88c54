import { CHANNELS } from '@cimd/contracts';
import {
  AuthorizeDecision,
  CacheEntry,
  ClientIdUrlCheck,
  freshness,
  parseCacheEntry,
  pendingDecision,
  PendingSituation,
  TenantPolicy,
} from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { ClientCacheRepository, RedisPubSub } from '@cimd/store';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { LocalCache } from '../common/local-cache';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { FetchRequests } from './fetch-requests';

export type CacheStatus = 'hit' | 'refreshing' | 'fetched' | 'stale';

/** What one replica keeps of a client between two reads of Redis. */
export interface ClientCopy {
  /** checkClientIdUrl of the exact client_id string: a pure verdict, kept as long as the entry. */
  url: ClientIdUrlCheck;
  entry: CacheEntry;
  /** The entry's JSON as read: a re-read that finds the same bytes keeps this copy. */
  raw: string;
}

/** What makes a re-read entry the answer to a fetch: newer than what the caller had. */
export interface Newer {
  id: string;
  test(entry: CacheEntry): boolean;
}

/** A document fetched after `fetchedAt`. */
export function newerThan(fetchedAt: number): Newer {
  return { id: `d${fetchedAt}`, test: (e) => e.fetched_at > fetchedAt };
}

/** A key set fetched after the one the entry held (or the first one). */
export function newerKeys(entry: CacheEntry): Newer {
  const fetchedAt = entry.keys?.status === 'unavailable' ? 0 : (entry.keys?.fetched_at ?? 0);
  return {
    id: `k${fetchedAt}`,
    test: (e) =>
      ((e.keys?.fetched_at ?? 0) > fetchedAt && e.keys?.status !== 'unavailable') || e.fetched_at > entry.fetched_at,
  };
}

/**
 * How long this process lets a background refresh it asked for stand before asking again for the
 * same entry. The job (deduplicated by client, retried with backoff) does the rest; asking on
 * every check of a popular client whose origin fails would run a queue script in Redis per check.
 */
const REFRESH_ASK_EVERY_MS = 5000;

/** A client's entry as a request may use it, or why there is none to use yet. */
export type Resolution =
  { kind: 'entry'; entry: CacheEntry; status: CacheStatus } | { kind: 'pending'; situation: PendingSituation };

/**
 * A client's cache entry for a request, from this replica's copy, Redis or the fetcher: fresh
 * entries are served, due ones refreshed in the background, missing and expired ones fetched
 * with a bounded wait (one wait per client in this process, one fetch per client in the fleet),
 * expired ones served stale inside the tenant's window while the origin fails. Each replica
 * keeps what it read for at most CIMD_LOCAL_CACHE_MS (≤ 1 s) and drops it at once when the
 * fetcher announces an attempt for that client, so a vanished client is refused everywhere
 * within that second even if an announcement is lost.
 */
@Injectable()
export class ClientResolver implements OnModuleInit {
  private readonly inflight = new Map<string, Promise<CacheEntry | undefined>>();
  /** Background refreshes asked for lately, by client key and the fetched_at of the entry they would replace. */
  private readonly refreshAsked = new LRUCache<string, true>({ max: 10_000, ttl: REFRESH_ASK_EVERY_MS });
  private readonly copies: LocalCache<ClientCopy, { clientId: string; url: ClientIdUrlCheck }>;

  constructor(
    private readonly cache: ClientCacheRepository,
    private readonly fetches: FetchRequests,
    private readonly pubsub: RedisPubSub,
    private readonly metrics: GatewayMetrics,
    @InjectConfig() private readonly config: GatewayConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.copies = new LocalCache({
      ttlMs: config.localCacheMs,
      max: 10_000,
      // An entry that did not change keeps its copy (and so every decision remembered on it):
      // nothing is parsed or allocated again, and nothing a second old dies in the old generation.
      load: async (_key, { clientId, url }, expired) => {
        const raw = await this.cache.getRaw(clientId);
        if (raw === null) return undefined;
        if (raw === expired?.raw) return expired;
        const entry = parseCacheEntry(raw);
        return entry ? { url, entry, raw } : undefined;
      },
    });
  }

  async onModuleInit(): Promise<void> {
    // Every attempt of the fetcher ends with a fetch-done notice: this replica's copy of that client goes.
    if (this.copies.enabled)
      await this.pubsub.subscribe(CHANNELS.fetchDone, (message) => this.copies.invalidate(message.client_key));
  }

  /** This replica's copy of a client (by clientKey), without I/O: a hit skips even the URL check. */
  copy(key: string): ClientCopy | undefined {
    const copy = this.copies.get(key);
    if (this.copies.enabled) this.metrics.localCacheLookup(copy !== undefined);
    return copy;
  }

  /** This replica's copy without counting a lookup: is what an answer was made from still current? */
  peek(key: string): ClientCopy | undefined {
    return this.copies.get(key);
  }

  /** With `keys`, a fetch waited for is awaited until the client's key set is written too (client authentication). */
  async resolve(
    clientId: string,
    key: string,
    url: ClientIdUrlCheck,
    policy: TenantPolicy,
    copy: ClientCopy | undefined,
    options: { keys?: boolean } = {},
  ): Promise<Resolution> {
    const reason = options.keys ? 'keys' : undefined;
    let entry: CacheEntry | undefined = copy?.entry;
    try {
      entry ??= (await this.copies.load(key, { clientId, url }))?.entry;
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'the client cache is unreachable');
      return { kind: 'pending', situation: 'cache_unreachable' };
    }
    if (!entry) {
      this.metrics.cacheLookup('miss');
      const fetched = await this.fetchNow(clientId, reason ?? 'miss', newerThan(0));
      return fetched
        ? { kind: 'entry', entry: fetched, status: 'fetched' }
        : { kind: 'pending', situation: 'not_cached' };
    }
    const now = Date.now();
    const state = freshness(entry, policy.stale_if_error_seconds, now);
    switch (state.state) {
      case 'refused':
        this.metrics.cacheLookup(entry.status);
        // Look again from time to time: a vanished or broken document may come back.
        if (state.refresh) this.background(clientId, key, entry);
        return { kind: 'entry', entry, status: 'hit' };
      case 'fresh':
        this.metrics.cacheLookup('hit');
        return { kind: 'entry', entry, status: 'hit' };
      case 'refresh_due':
        this.metrics.cacheLookup('refreshing');
        this.background(clientId, key, entry);
        return { kind: 'entry', entry, status: 'refreshing' };
      case 'stale':
        // The fetcher already failed since expiry: do not make this request wait again.
        this.metrics.cacheLookup('stale');
        this.background(clientId, key, entry);
        return { kind: 'entry', entry, status: 'stale' };
      case 'expired': {
        this.metrics.cacheLookup('expired');
        const fresh = await this.fetchNow(clientId, reason ?? 'refresh', newerThan(entry.fetched_at));
        if (fresh) return { kind: 'entry', entry: fresh, status: 'fetched' };
        if (now < state.staleUntil) {
          this.metrics.cacheLookup('stale');
          return { kind: 'entry', entry, status: 'stale' };
        }
        return { kind: 'pending', situation: 'expired' };
      }
    }
  }

  /**
   * Fetch the client again now and wait up to the configured time; the entry if what arrived is
   * `newer` than what the caller had (`keys`: until the key set is written too). Concurrent calls
   * for one client in this process share one wait.
   */
  fetchNow(clientId: string, reason: 'miss' | 'refresh' | 'keys', newer: Newer): Promise<CacheEntry | undefined> {
    const key = `${reason}:${newer.id}:${clientId}`;
    let shared = this.inflight.get(key);
    if (!shared) {
      shared = this.fetchAndRead(clientId, reason, newer).finally(() => this.inflight.delete(key));
      this.inflight.set(key, shared);
    }
    return shared;
  }

  private async fetchAndRead(
    clientId: string,
    reason: 'miss' | 'refresh' | 'keys',
    newer: Newer,
  ): Promise<CacheEntry | undefined> {
    const started = performance.now();
    try {
      await this.fetches.requestAndWait(clientId, reason, this.config.authorizeWaitMs);
      const entry = await this.cache.get(clientId);
      return entry && newer.test(entry) ? entry : undefined;
    } catch (e) {
      this.logger.warn({ client_id: clientId, err: (e as Error).message }, 'could not enqueue or await a fetch');
      return undefined;
    } finally {
      this.metrics.queueWait.observe((performance.now() - started) / 1000);
    }
  }

  /**
   * `pending`, with the reason of the client's last failed fetch and a retry hint from its attempt
   * log (read only on this path: answers from the cache read nothing more).
   */
  async pending(clientId: string, situation: PendingSituation): Promise<AuthorizeDecision> {
    const attempts = situation === 'cache_unreachable' ? [] : await this.cache.attempts(clientId).catch(() => []);
    return pendingDecision(situation, attempts, Date.now());
  }

  private background(clientId: string, key: string, entry: CacheEntry): void {
    const asked = `${key} ${entry.fetched_at}`;
    if (this.refreshAsked.has(asked)) return;
    this.refreshAsked.set(asked, true);
    this.fetches.request(clientId, 'refresh').catch((e: Error) => {
      this.refreshAsked.delete(asked);
      this.logger.warn({ client_id: clientId, err: e.message }, 'could not enqueue a refresh');
    });
  }
}
