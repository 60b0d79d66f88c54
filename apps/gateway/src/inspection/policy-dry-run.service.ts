import { DryRunClient, dryRunPolicy, parseTenantPolicy } from '@cimd/core';
import { ClientCacheRepository } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import { logoUrl } from '../clients/clients.service';
import { DomainError, unavailable } from '../common/domain-error';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { TenantPoliciesService, validatePolicy } from '../tenants/tenant-policies.service';
import { ClientDirectoryRepository } from './client-directory.repository';

/** The most clients one dry run judges: the ones the tenant asked about most recently. */
export const DRY_RUN_MAX_CLIENTS = 1000;

/**
 * A policy before it is saved: whether it is valid (as the operator types), and what it would
 * do to the clients the tenant has seen: each judged from the cache under the policy in force
 * and under the proposed one (dryRunPolicy), nothing fetched, nothing stored.
 */
@Injectable()
export class PolicyDryRunService {
  constructor(
    private readonly policies: TenantPoliciesService,
    private readonly directory: ClientDirectoryRepository,
    private readonly cache: ClientCacheRepository,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {}

  /** Every problem of a proposed policy, or its effective form (defaults filled in). */
  async validate(tenant: string, input: unknown) {
    await this.policies.require(tenant);
    try {
      const { effective } = validatePolicy(input);
      return { valid: true, errors: [] as string[], policy: effective };
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const parsed =
        input !== null && typeof input === 'object' && !Array.isArray(input) ? parseTenantPolicy(input) : undefined;
      return { valid: false, errors: parsed && !parsed.ok ? parsed.errors : [e.description] };
    }
  }

  async dryRun(tenant: string, input: unknown) {
    const proposed = validatePolicy(input).effective;
    const current = await this.policies.require(tenant);
    const seen = await this.directory.seenBy(tenant, DRY_RUN_MAX_CLIENTS);
    const ids = seen.rows.map((r) => r.client_id);
    let entries, latest;
    try {
      [entries, latest] = await Promise.all([this.cache.getMany(ids), this.cache.latestAttempts(ids)]);
    } catch {
      throw unavailable('the client cache is unreachable; try again shortly');
    }
    const clients = seen.rows.map((row, i): DryRunClient => {
      const entry = entries[i];
      const attempt = latest[i];
      const last = row.last_request;
      return {
        client_id: row.client_id,
        ...(last?.redirect_uri !== undefined
          ? { lastRequest: { ...last, client_id: row.client_id, redirect_uri: last.redirect_uri } }
          : {}),
        entry,
        attempts: attempt ? [attempt] : [],
        ...(entry?.logo ? { logoUrl: logoUrl(this.config.publicUrl, entry.logo.sha256) } : {}),
      };
    });
    const result = dryRunPolicy(clients, current.policy, proposed, Date.now());
    return {
      tenant,
      current_version: current.version,
      seen: seen.total,
      evaluated: result.counts.evaluated,
      truncated: seen.total > result.counts.evaluated,
      counts: result.counts,
      rows: result.rows,
      policy: proposed,
    };
  }
}
