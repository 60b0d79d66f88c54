import { clientKey } from '@cimd/contracts';
import { CHANNELS } from '@cimd/contracts';
import {
  AuthorizeDecision,
  AuthorizeRequest,
  CacheEntry,
  checkClientIdUrl,
  ClientIdUrlCheck,
  decideAuthorization,
  decideOnCachedEntry,
  evaluateClientIdPolicy,
  Finding,
  freshness,
  pendingDecision,
  PendingSituation,
  RuleCode,
  TenantPolicy,
} from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { ClientCacheRepository, RedisPubSub } from '@cimd/store';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { ClientSightings } from '../clients/client-sightings';
import { logoUrl } from '../clients/clients.service';
import { FetchRequests } from '../clients/fetch-requests';
import { invalidRequest } from '../common/domain-error';
import { LocalCache } from '../common/local-cache';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';

export type CacheStatus = 'hit' | 'refreshing' | 'fetched' | 'stale';

export interface AuthorizeResponse extends AuthorizeDecision {
  cache?: { status: CacheStatus; fetched_at: string; expires_at: string };
}

/** client_id problems that mean the caller did not send a URL at all: a 400, not a decision. */
const NOT_A_URL: ReadonlySet<RuleCode> = new Set<RuleCode>([
  'client_id.empty',
  'client_id.too_long',
  'client_id.invalid_character',
  'client_id.bad_percent_encoding',
  'client_id.not_absolute',
  'client_id.missing_host',
]);

/** What one replica keeps of a client between two reads of Redis. */
interface ClientCopy {
  /** checkClientIdUrl of the exact client_id string: a pure verdict, kept as long as the entry. */
  url: ClientIdUrlCheck;
  entry: CacheEntry;
}

/**
 * The hot path: one authorization request of one tenant, answered from the shared cache when
 * it can be, with a bounded wait for the fetcher when it cannot. Each replica keeps what it
 * read from Redis for at most CIMD_LOCAL_CACHE_MS (≤ 1 s), and drops it at once when the
 * fetcher announces an attempt for that client, so a vanished client is refused everywhere
 * within that second even if an announcement is lost.
 */
@Injectable()
export class AuthorizeService implements OnModuleInit {
  private readonly inflight = new Map<string, Promise<CacheEntry | undefined>>();
  readonly copies: LocalCache<ClientCopy, { clientId: string; url: ClientIdUrlCheck }>;

  constructor(
    private readonly cache: ClientCacheRepository,
    private readonly policies: TenantPoliciesService,
    private readonly fetches: FetchRequests,
    private readonly pubsub: RedisPubSub,
    private readonly sightings: ClientSightings,
    private readonly metrics: GatewayMetrics,
    @InjectConfig() private readonly config: GatewayConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.copies = new LocalCache({
      ttlMs: config.localCacheMs,
      max: 10_000,
      load: async (_key, { clientId, url }) => {
        const entry = await this.cache.get(clientId);
        return entry ? { url, entry } : undefined;
      },
    });
  }

  async onModuleInit(): Promise<void> {
    // Every attempt of the fetcher ends with a fetch-done notice: this replica's copy of that client goes.
    if (this.copies.enabled)
      await this.pubsub.subscribe(CHANNELS.fetchDone, (message) => this.copies.invalidate(message.client_key));
  }

  async check(tenantId: string, request: AuthorizeRequest): Promise<AuthorizeResponse> {
    const result = await this.decide(tenantId, request);
    this.metrics.decisions.inc({ decision: result.decision, reason: result.reason ?? '' });
    this.sightings.record(tenantId, request, result);
    return result;
  }

  private async decide(tenantId: string, request: AuthorizeRequest): Promise<AuthorizeResponse> {
    const key = clientKey(request.client_id);
    const copy = this.copies.get(key);
    if (this.copies.enabled) this.metrics.localCache.inc({ result: copy ? 'hit' : 'miss' });
    const url = copy?.url ?? checkClientIdUrl(request.client_id);
    const first = url.errors[0];
    if (first && NOT_A_URL.has(first.code)) throw invalidRequest(first.message);
    const { policy } = await this.policies.require(tenantId);

    if (!url.url) return this.deny(request, url, url.errors);
    // A client_id the tenant refuses is never fetched.
    if (evaluateClientIdPolicy(url.url, policy)) return this.deny(request, url, [], policy);

    let entry: CacheEntry | undefined = copy?.entry;
    try {
      entry ??= (await this.copies.load(key, { clientId: request.client_id, url }))?.entry;
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'the client cache is unreachable');
      return this.pending(request.client_id, 'cache_unreachable');
    }

    let status: CacheStatus = 'hit';
    if (!entry) {
      this.metrics.cache.inc({ result: 'miss' });
      entry = await this.fetchNow(request.client_id, 'miss', 0);
      if (!entry) return this.pending(request.client_id, 'not_cached');
      status = 'fetched';
    } else {
      const now = Date.now();
      const state = freshness(entry, policy.stale_if_error_seconds, now);
      switch (state.state) {
        case 'refused':
          this.metrics.cache.inc({ result: entry.status });
          // Look again from time to time: a vanished or broken document may come back.
          if (state.refresh) this.background(request.client_id);
          break;
        case 'fresh':
          this.metrics.cache.inc({ result: 'hit' });
          break;
        case 'refresh_due':
          this.metrics.cache.inc({ result: 'refreshing' });
          this.background(request.client_id);
          status = 'refreshing';
          break;
        case 'stale':
          // The fetcher already failed since expiry: do not make this request wait again.
          this.metrics.cache.inc({ result: 'stale' });
          this.background(request.client_id);
          status = 'stale';
          break;
        case 'expired': {
          this.metrics.cache.inc({ result: 'expired' });
          const fresh = await this.fetchNow(request.client_id, 'refresh', entry.fetched_at);
          if (fresh) {
            entry = fresh;
            status = 'fetched';
          } else if (now < state.staleUntil) {
            this.metrics.cache.inc({ result: 'stale' });
            status = 'stale';
          } else {
            return this.pending(request.client_id, 'expired');
          }
          break;
        }
      }
    }

    const decision = this.decideOn(request, url, entry, policy);
    if (status === 'stale' && decision.trust) decision.trust.warnings.push('client.stale');
    if (entry.status === 'valid') {
      decision.cache = {
        status,
        fetched_at: new Date(entry.fetched_at).toISOString(),
        expires_at: new Date(entry.expires_at).toISOString(),
      };
    }
    return decision;
  }

  /**
   * Enqueue and wait up to the configured time; the entry if one newer than `after` arrived.
   * Concurrent checks for one client in this process share one wait.
   */
  private fetchNow(clientId: string, reason: 'miss' | 'refresh', after: number): Promise<CacheEntry | undefined> {
    const key = `${after}:${clientId}`;
    let shared = this.inflight.get(key);
    if (!shared) {
      shared = this.fetchAndRead(clientId, reason, after).finally(() => this.inflight.delete(key));
      this.inflight.set(key, shared);
    }
    return shared;
  }

  private async fetchAndRead(
    clientId: string,
    reason: 'miss' | 'refresh',
    after: number,
  ): Promise<CacheEntry | undefined> {
    const started = performance.now();
    try {
      await this.fetches.requestAndWait(clientId, reason, this.config.authorizeWaitMs);
      const entry = await this.cache.get(clientId);
      return entry && entry.fetched_at > after ? entry : undefined;
    } catch (e) {
      this.logger.warn({ client_id: clientId, err: (e as Error).message }, 'could not enqueue or await a fetch');
      return undefined;
    } finally {
      this.metrics.queueWait.observe((performance.now() - started) / 1000);
    }
  }

  private background(clientId: string): void {
    this.fetches.request(clientId, 'refresh').catch((e: Error) => {
      this.logger.warn({ client_id: clientId, err: e.message }, 'could not enqueue a refresh');
    });
  }

  private decideOn(
    request: AuthorizeRequest,
    urlCheck: ClientIdUrlCheck,
    entry: CacheEntry,
    policy: TenantPolicy,
  ): AuthorizeResponse {
    return decideOnCachedEntry({
      request,
      urlCheck,
      entry,
      policy,
      ...(entry.logo ? { logoUrl: logoUrl(this.config.publicUrl, entry.logo.sha256) } : {}),
    });
  }

  /**
   * `pending`, with the reason of the client's last failed fetch and a retry hint from its attempt
   * log: read only here, never on a decision made from the cache.
   */
  private async pending(clientId: string, situation: PendingSituation): Promise<AuthorizeResponse> {
    const attempts = situation === 'cache_unreachable' ? [] : await this.cache.attempts(clientId).catch(() => []);
    return pendingDecision(situation, attempts, Date.now());
  }

  private deny(
    request: AuthorizeRequest,
    urlCheck: ClientIdUrlCheck,
    errors: Finding[],
    policy?: TenantPolicy,
  ): AuthorizeResponse {
    return decideAuthorization({ request, urlCheck, document: { valid: false, errors, warnings: [] }, policy });
  }
}
