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
  RuleCode,
  TenantPolicy,
} from '@cimd/core';
import { Injectable } from '@nestjs/common';
import { ClientResolver, CacheStatus } from '../clients/client-resolver';
import { ClientSightings } from '../clients/client-sightings';
import { logoUrl } from '../clients/clients.service';
import { invalidRequest } from '../common/domain-error';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';

export interface AuthorizeResponse extends AuthorizeDecision {
  cache?: { status: CacheStatus; fetched_at: string; expires_at: string };
}

/** client_id problems that mean the caller did not send a URL at all: a 400, not a decision. */
export const NOT_A_URL: ReadonlySet<RuleCode> = new Set<RuleCode>([
  'client_id.empty',
  'client_id.too_long',
  'client_id.invalid_character',
  'client_id.bad_percent_encoding',
  'client_id.not_absolute',
  'client_id.missing_host',
]);

/** The hot path: one authorization request of one tenant, decided on the client's cached document. */
@Injectable()
export class AuthorizeService {
  constructor(
    private readonly clients: ClientResolver,
    private readonly policies: TenantPoliciesService,
    private readonly sightings: ClientSightings,
    private readonly metrics: GatewayMetrics,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {}

  async check(tenantId: string, request: AuthorizeRequest): Promise<AuthorizeResponse> {
    const result = await this.decide(tenantId, request);
    this.metrics.decisions.inc({ decision: result.decision, reason: result.reason ?? '' });
    this.sightings.record(tenantId, request, result);
    return result;
  }

  private async decide(tenantId: string, request: AuthorizeRequest): Promise<AuthorizeResponse> {
    const key = clientKey(request.client_id);
    const copy = this.clients.copy(key);
    const url = copy?.url ?? checkClientIdUrl(request.client_id);
    const first = url.errors[0];
    if (first && NOT_A_URL.has(first.code)) throw invalidRequest(first.message);
    const { policy } = await this.policies.require(tenantId);

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
    return decision;
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
