import { CacheEntry, clientKey, FetchDoneMessage, parseCacheEntry, RedisKeys } from '@cimd/contracts';
import {
  AuthorizeDecision,
  AuthorizeRequest,
  checkClientIdUrl,
  ClientIdUrlCheck,
  decideAuthorization,
  DocumentCheck,
  evaluateClientIdPolicy,
  Finding,
  RuleCode,
  TenantPolicy,
} from '@cimd/core';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { badRequest } from '../common/api-error';
import { parseBody } from '../common/parse-body';
import type { Subscriptions } from '../infra/subscriptions';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import type { TenantPoliciesService } from '../tenants/tenant-policies.service';
import type { FetchCoordinator } from './fetch-coordinator';
import { LocalClientCache } from './local-client-cache';

export const AuthorizeCheckBody = z
  .object({
    client_id: z.string().max(8192),
    redirect_uri: z.string().min(1).max(8192),
    response_type: z.string().max(256).optional(),
    scope: z.string().max(8192).optional(),
    code_challenge_method: z.string().max(64).optional(),
  })
  .strict();

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

/**
 * The hot path: one authorization request of one tenant, answered from the Redis cache when
 * it can be, with a bounded wait for the fetcher when it cannot (DESIGN.md "Behaviour").
 */
export class AuthorizeService {
  private readonly inflight = new Map<string, Promise<CacheEntry | undefined>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly policies: TenantPoliciesService,
    private readonly fetches: FetchCoordinator,
    private readonly metrics: GatewayMetrics,
    private readonly options: { waitMs: number; publicUrl: string },
    private readonly logger: Logger,
    /** The replica's short-lived copy of entries read from Redis (off when its TTL is 0). */
    readonly local: LocalClientCache = new LocalClientCache(0),
  ) {}

  /** Every attempt of the fetcher ends with a fetch-done notice: the local copy of that client is dropped. */
  async listen(subscriptions: Subscriptions): Promise<void> {
    if (!this.local.enabled) return;
    await subscriptions.on(this.keys.fetchDone, (raw) => {
      const message = JSON.parse(raw) as Partial<FetchDoneMessage>;
      if (typeof message.client_key === 'string') this.local.invalidate(message.client_key);
    });
  }

  async check(tenantId: string, body: unknown): Promise<AuthorizeResponse> {
    const request: AuthorizeRequest = parseBody(AuthorizeCheckBody, body);
    const key = clientKey(request.client_id);
    const copy = this.local.enabled ? this.local.get(key) : undefined;
    if (this.local.enabled) this.metrics.localCache.inc({ result: copy ? 'hit' : 'miss' });
    const url = copy?.url ?? checkClientIdUrl(request.client_id);
    const first = url.errors[0];
    if (first && NOT_A_URL.has(first.code)) throw badRequest(first.message);
    const { policy } = await this.policies.require(tenantId);

    if (!url.url) return this.deny(request, url, url.errors);
    const denial = evaluateClientIdPolicy(url.url, policy);
    // A client_id the tenant refuses is never fetched.
    if (denial) return this.deny(request, url, [], policy);

    const now = Date.now();
    let entry: CacheEntry | undefined = copy?.entry;
    try {
      if (!entry) {
        const generation = this.local.generation;
        entry = await this.read(request.client_id);
        if (entry) this.local.set(key, { url, entry }, generation);
      }
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'the client cache is unreachable');
      return pending('The client cache is unreachable; try again shortly.');
    }

    let status: CacheStatus = 'hit';
    if (!entry) {
      this.metrics.cache.inc({ result: 'miss' });
      entry = await this.fetchNow(request.client_id, 'miss', 0);
      if (!entry) return pending("The client's metadata document could not be fetched in time; try again shortly.");
      status = 'fetched';
    } else if (entry.status !== 'valid') {
      this.metrics.cache.inc({ result: entry.status });
      // Look again from time to time: a vanished or broken document may come back.
      if (now >= entry.refresh_at) this.background(request.client_id, 'refresh');
    } else if (now < entry.refresh_at) {
      this.metrics.cache.inc({ result: 'hit' });
    } else if (now < entry.expires_at) {
      this.metrics.cache.inc({ result: 'refreshing' });
      this.background(request.client_id, 'refresh');
      status = 'refreshing';
    } else {
      const served = await this.expired(request.client_id, entry, policy, now);
      if (!served)
        return pending("The client's metadata document has expired and could not be fetched again; try again shortly.");
      ({ entry, status } = served);
    }

    const decision = this.decide(request, url, entry, policy);
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

  /** An expired valid copy: fetch again; if that fails, serve it inside the tenant's stale-if-error window. */
  private async expired(
    clientId: string,
    entry: CacheEntry,
    policy: TenantPolicy,
    now: number,
  ): Promise<{ entry: CacheEntry; status: CacheStatus } | undefined> {
    const withinWindow = (e: CacheEntry) => now < e.expires_at + policy.stale_if_error_seconds * 1000;
    // The fetcher already tried after expiry and failed: do not make this request wait again.
    const failedSinceExpiry = entry.last_error !== undefined && entry.last_error.at >= entry.expires_at;
    if (failedSinceExpiry && withinWindow(entry)) {
      this.metrics.cache.inc({ result: 'stale' });
      this.background(clientId, 'refresh');
      return { entry, status: 'stale' };
    }
    this.metrics.cache.inc({ result: 'expired' });
    const fresh = await this.fetchNow(clientId, 'refresh', entry.fetched_at);
    if (fresh) return { entry: fresh, status: 'fetched' };
    if (withinWindow(entry)) {
      this.metrics.cache.inc({ result: 'stale' });
      return { entry, status: 'stale' };
    }
    return undefined;
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
      await this.fetches.requestAndWait(clientId, reason, this.options.waitMs);
      const entry = await this.read(clientId);
      return entry && entry.fetched_at > after ? entry : undefined;
    } catch (e) {
      this.logger.warn({ client_id: clientId, err: (e as Error).message }, 'could not enqueue or await a fetch');
      return undefined;
    } finally {
      this.metrics.queueWait.observe((performance.now() - started) / 1000);
    }
  }

  private background(clientId: string, reason: 'refresh'): void {
    this.fetches.request(clientId, reason).catch((e: Error) => {
      this.logger.warn({ client_id: clientId, err: e.message }, 'could not enqueue a refresh');
    });
  }

  private async read(clientId: string): Promise<CacheEntry | undefined> {
    return parseCacheEntry(await this.redis.get(this.keys.clientEntry(clientId)));
  }

  private decide(
    request: AuthorizeRequest,
    urlCheck: ClientIdUrlCheck,
    entry: CacheEntry,
    policy: TenantPolicy,
  ): AuthorizeResponse {
    const document: DocumentCheck =
      entry.status === 'valid' && entry.document
        ? {
            valid: true,
            errors: [],
            warnings: (entry.warnings ?? []).map((code) => ({ code, message: '' })),
            document: entry.document,
          }
        : { valid: false, errors: entry.errors ?? [], warnings: [] };
    const logo = entry.logo ? `${this.options.publicUrl}/v1/logos/${entry.logo.sha256}` : undefined;
    return decideAuthorization({
      request,
      urlCheck,
      document,
      policy,
      ...(entry.first_seen_at !== undefined ? { firstSeenAt: entry.first_seen_at } : {}),
      logoUrl: () => logo,
    });
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

function pending(description: string): AuthorizeResponse {
  return {
    decision: 'pending',
    error: 'temporarily_unavailable',
    error_description: description,
    reason: 'client.pending',
  };
}
