import { CHANNELS } from '@cimd/contracts';
import { checkWebhookUrl, DEFAULT_WEBHOOK_PORTS, parseTenantPolicy, TenantPolicy } from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { RedisPubSub } from '@cimd/store';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { alreadyExists, invalidRequest, notFound } from '../common/domain-error';
import { LocalCache } from '../common/local-cache';
import { joinProblems } from '../common/parse-body';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { TenantsRepository } from './tenants.repository';

export interface PolicyVersion {
  tenantId: string;
  version: number;
  policy: TenantPolicy;
}

const POLICY_CACHE_MS = 30_000;

/**
 * Tenants and their versioned policies, with an in-process copy so the authorize path does
 * not query the database (and keeps deciding with the last policy loaded while it is down);
 * a change reaches every replica by pub/sub.
 */
@Injectable()
export class TenantPoliciesService implements OnModuleInit {
  private readonly policies: LocalCache<PolicyVersion>;

  constructor(
    private readonly tenants: TenantsRepository,
    private readonly pubsub: RedisPubSub,
    @InjectConfig() private readonly config: GatewayConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.policies = new LocalCache({
      ttlMs: POLICY_CACHE_MS,
      max: 100_000,
      load: (tenantId) => this.load(tenantId),
      serveStaleOnLoadFailure: true,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.pubsub.subscribe(CHANNELS.invalidations, (message) => {
      if (message.type === 'policy') this.policies.invalidate(message.tenant);
    });
  }

  async createTenant(tenantId: string, policyInput: unknown): Promise<PolicyVersion> {
    const policy = validatePolicy(policyInput, this.config.webhookAllowedPorts);
    if (!(await this.tenants.create(tenantId, policy.stored))) throw alreadyExists(`tenant ${tenantId} already exists`);
    return { tenantId, version: 1, policy: policy.effective };
  }

  /** The policy in force if this process holds a fresh copy of it: no I/O, no promise. */
  cached(tenantId: string): PolicyVersion | undefined {
    return this.policies.get(tenantId);
  }

  /** The policy in force, or undefined for an unknown tenant. */
  async current(tenantId: string): Promise<PolicyVersion | undefined> {
    return this.policies.get(tenantId) ?? (await this.policies.load(tenantId, undefined));
  }

  async require(tenantId: string): Promise<PolicyVersion> {
    const p = await this.current(tenantId);
    if (!p) throw notFound(`there is no tenant ${tenantId}`);
    return p;
  }

  async replace(tenantId: string, policyInput: unknown): Promise<PolicyVersion> {
    const policy = validatePolicy(policyInput, this.config.webhookAllowedPorts);
    const version = await this.tenants.appendPolicy(tenantId, policy.stored);
    if (version === undefined) throw notFound(`there is no tenant ${tenantId}`);
    this.policies.invalidate(tenantId);
    await this.pubsub.publish(CHANNELS.invalidations, { type: 'policy', tenant: tenantId }).catch((e: Error) => {
      this.logger.warn(
        { tenant: tenantId, err: e.message },
        'could not announce a policy change; other replicas pick it up within 30 s',
      );
    });
    return { tenantId, version, policy: policy.effective };
  }

  private async load(tenantId: string): Promise<PolicyVersion | undefined> {
    const stored = await this.tenants.currentPolicy(tenantId);
    if (!stored) return undefined;
    const parsed = parseTenantPolicy(stored.policy);
    if (!parsed.ok)
      throw new Error(`stored policy ${tenantId} v${stored.version} no longer validates: ${parsed.errors.join('; ')}`);
    return { tenantId, version: stored.version, policy: parsed.policy };
  }
}

/**
 * A policy from an API body: refused with a 400 naming every problem; stored as given, so later
 * defaults apply. Its webhook URL is checked too (special-use addresses, localhost, credentials,
 * ports other than `webhookPorts`); policies already stored are not, the fetcher refuses their
 * deliveries.
 */
export function validatePolicy(
  input: unknown,
  webhookPorts: readonly number[] = DEFAULT_WEBHOOK_PORTS,
): { stored: Record<string, unknown>; effective: TenantPolicy } {
  if (input !== undefined && (input === null || typeof input !== 'object' || Array.isArray(input))) {
    throw invalidRequest('policy must be a JSON object');
  }
  const parsed = parseTenantPolicy(input ?? {});
  if (!parsed.ok) throw invalidRequest(`invalid policy: ${joinProblems(parsed.errors)}`);
  const webhook = parsed.policy.webhook ? checkWebhookUrl(parsed.policy.webhook.url, webhookPorts) : undefined;
  if (webhook) throw invalidRequest(`invalid policy: ${webhook.field}: ${webhook.message} (rule ${webhook.code})`);
  const unstorable = unstorableString(input ?? {}, '');
  if (unstorable !== undefined) {
    throw invalidRequest(
      `invalid policy: ${unstorable}: contains U+0000 or an unpaired surrogate, which cannot be stored`,
    );
  }
  return { stored: (input ?? {}) as Record<string, unknown>, effective: parsed.policy };
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The path of the first string PostgreSQL's jsonb refuses (U+0000, an unpaired surrogate), so
 * that such a policy is a 400 and not a failed INSERT. Field names are known: parseTenantPolicy
 * refuses unknown ones.
 */
function unstorableString(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') || UNPAIRED_SURROGATE.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = unstorableString(item, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}
