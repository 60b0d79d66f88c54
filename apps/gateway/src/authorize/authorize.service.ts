import { clientKey } from '@cimd/contracts';
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
  TenantPolicy,
} from '@cimd/core';
import { Injectable } from '@nestjs/common';
import { ClientResolver, CacheStatus } from '../clients/client-resolver';
import { ClientSightings } from '../clients/client-sightings';
import { logoUrl } from '../clients/clients.service';
import { refuseNonUrl } from '../common/parse-body';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { PolicyVersion, TenantPoliciesService } from '../tenants/tenant-policies.service';
import { decisionUntil, RememberedDecision, RememberedDecisions } from './remembered-decisions';

export interface AuthorizeResponse extends AuthorizeDecision {
  cache?: { status: CacheStatus; fetched_at: string; expires_at: string };
}

type Counted = { inc(): void };

/** The hot path: one authorization request of one tenant, decided on the client's cached document. */
@Injectable()
export class AuthorizeService {
  private readonly remembered = new RememberedDecisions();
  private readonly hits: { local: Counted; cache: Counted };

  constructor(
    private readonly clients: ClientResolver,
    private readonly policies: TenantPoliciesService,
    private readonly sightings: ClientSightings,
    private readonly metrics: GatewayMetrics,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {
    this.hits = {
      local: metrics.localCache.labels({ result: 'hit' }),
      cache: metrics.cache.labels({ result: 'hit' }),
    };
  }

  async check(tenantId: string, request: AuthorizeRequest): Promise<AuthorizeResponse> {
    const remembered = this.recall(tenantId, request);
    if (remembered) return remembered.response;
    const result = await this.decide(tenantId, request);
    this.record(tenantId, request, result);
    return result;
  }

  /**
   * The answer to a check answered before from the copies of the client's entry and of the
   * tenant's policy this process still holds, without I/O or a promise (and counted as a check);
   * undefined when the check must be decided (`check`).
   */
  recall(tenantId: string, request: AuthorizeRequest): RememberedDecision | undefined {
    const remembered = this.remembered.recall(tenantId, request, this.current, Date.now());
    if (!remembered) return undefined;
    // As the check it stands for would have counted: a lookup answered from the copy.
    this.hits.local.inc();
    this.hits.cache.inc();
    this.metrics.rememberedDecisions.inc();
    this.record(tenantId, request, remembered.response);
    return remembered;
  }

  private readonly current = (r: RememberedDecision): boolean =>
    this.clients.peek(r.clientKey) === r.copy && this.policies.cached(r.policy.tenantId) === r.policy;

  private record(tenantId: string, request: AuthorizeRequest, result: AuthorizeResponse): void {
    this.metrics.decided(result.decision, result.reason ?? '');
    this.sightings.record(tenantId, request, result);
  }

  private async decide(tenantId: string, request: AuthorizeRequest): Promise<AuthorizeResponse> {
    const key = clientKey(request.client_id);
    const copy = this.clients.copy(key);
    const url = copy?.url ?? checkClientIdUrl(request.client_id);
    refuseNonUrl(url);
    const policyVersion = await this.policies.require(tenantId);
    const { policy } = policyVersion;

    if (!url.url) return this.deny(request, url, url.errors);
    // A client_id the tenant refuses is never fetched.
    if (evaluateClientIdPolicy(url.url, policy)) return this.deny(request, url, [], policy);

    const resolved = await this.clients.resolve(request.client_id, key, url, policy, copy);
    if (resolved.kind === 'pending') return this.clients.pending(request.client_id, resolved.situation);
    const { entry, status } = resolved;
    const decision = this.decideOn(request, url, entry, policy);
    if (status === 'stale' && decision.trust) decision.trust.warnings.push('client.stale');
    if (entry.status === 'valid') {
      decision.cache = {
        status,
        fetched_at: new Date(entry.fetched_at).toISOString(),
        expires_at: new Date(entry.expires_at).toISOString(),
      };
    }
    if (status === 'hit') this.remember(tenantId, request, key, entry, policyVersion, decision);
    return decision;
  }

  /** A decision made from a fresh entry is given again while nothing it was made from changes. */
  private remember(
    tenantId: string,
    request: AuthorizeRequest,
    clientKey: string,
    entry: CacheEntry,
    policy: PolicyVersion,
    response: AuthorizeResponse,
  ): void {
    const copy = this.clients.peek(clientKey);
    // Only what this process holds copies of can be checked for change without I/O.
    if (copy?.entry !== entry || this.policies.cached(tenantId) !== policy) return;
    const now = Date.now();
    const until = decisionUntil(entry, policy.policy, now);
    if (until > now) this.remembered.remember(tenantId, request, { response, clientKey, copy, policy, until });
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

  private deny(
    request: AuthorizeRequest,
    urlCheck: ClientIdUrlCheck,
    errors: Finding[],
    policy?: TenantPolicy,
  ): AuthorizeResponse {
    return decideAuthorization({ request, urlCheck, document: { valid: false, errors, warnings: [] }, policy });
  }
}
