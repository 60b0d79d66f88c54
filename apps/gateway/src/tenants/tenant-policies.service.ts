import { RedisKeys } from '@cimd/contracts';
import { parseTenantPolicy, TenantPolicy } from '@cimd/core';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { badRequest, conflict, notFound } from '../common/api-error';
import { joinProblems } from '../common/parse-body';
import { TenantEntity, TenantPolicyEntity } from '../database/entities';
import type { Subscriptions } from '../infra/subscriptions';

export interface PolicyVersion {
  tenantId: string;
  version: number;
  policy: TenantPolicy;
}

const POLICY_CACHE_MS = 30_000;

/**
 * Tenants and their versioned policies (PostgreSQL), with an in-process copy so the
 * authorize path does not query the database; a change reaches every replica by pub/sub.
 */
export class TenantPoliciesService {
  private readonly cache = new Map<string, PolicyVersion & { loadedAt: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  async listen(subscriptions: Subscriptions): Promise<void> {
    await subscriptions.on(this.keys.invalidations, (raw) => {
      const message = JSON.parse(raw) as { type?: string; tenant?: string };
      if (message.type === 'policy' && message.tenant) this.cache.delete(message.tenant);
    });
  }

  async createTenant(tenantId: string, policyInput: unknown): Promise<PolicyVersion> {
    const policy = this.validate(policyInput);
    try {
      await this.db.transaction(async (tx) => {
        await tx.getRepository(TenantEntity).insert({ id: tenantId });
        await tx.getRepository(TenantPolicyEntity).insert({ tenantId, version: 1, policy: policy.stored as never });
      });
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw conflict(`tenant ${tenantId} already exists`);
      throw e;
    }
    return { tenantId, version: 1, policy: policy.effective };
  }

  /** The policy in force, or undefined for an unknown tenant. */
  async current(tenantId: string): Promise<PolicyVersion | undefined> {
    const cached = this.cache.get(tenantId);
    if (cached && Date.now() - cached.loadedAt < POLICY_CACHE_MS) return cached;
    try {
      const row = await this.db
        .getRepository(TenantPolicyEntity)
        .findOne({ where: { tenantId }, order: { version: 'DESC' } });
      if (!row) {
        this.cache.delete(tenantId);
        return undefined;
      }
      const parsed = parseTenantPolicy(row.policy);
      if (!parsed.ok)
        throw new Error(`stored policy ${tenantId} v${row.version} no longer validates: ${parsed.errors.join('; ')}`);
      const entry = { tenantId, version: row.version, policy: parsed.policy, loadedAt: Date.now() };
      this.cache.set(tenantId, entry);
      return entry;
    } catch (e) {
      // PostgreSQL down: keep deciding with the last policy we loaded.
      if (cached) return cached;
      throw e;
    }
  }

  async require(tenantId: string): Promise<PolicyVersion> {
    const p = await this.current(tenantId);
    if (!p) throw notFound(`there is no tenant ${tenantId}`);
    return p;
  }

  async replace(tenantId: string, policyInput: unknown): Promise<PolicyVersion> {
    const policy = this.validate(policyInput);
    const version = await this.db.transaction(async (tx) => {
      // Lock the tenant row so concurrent updates get consecutive versions.
      const tenant = await tx
        .getRepository(TenantEntity)
        .findOne({ where: { id: tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!tenant) throw notFound(`there is no tenant ${tenantId}`);
      const latest = await tx.getRepository(TenantPolicyEntity).maximum('version', { tenantId });
      const next = (latest ?? 0) + 1;
      await tx.getRepository(TenantPolicyEntity).insert({ tenantId, version: next, policy: policy.stored as never });
      return next;
    });
    this.cache.delete(tenantId);
    await this.redis
      .publish(this.keys.invalidations, JSON.stringify({ type: 'policy', tenant: tenantId }))
      .catch((e: Error) => {
        this.logger.warn(
          { tenant: tenantId, err: e.message },
          'could not announce a policy change; other replicas pick it up within 30 s',
        );
      });
    return { tenantId, version, policy: policy.effective };
  }

  private validate(input: unknown): { stored: Record<string, unknown>; effective: TenantPolicy } {
    if (input !== undefined && (input === null || typeof input !== 'object' || Array.isArray(input))) {
      throw badRequest('policy must be a JSON object');
    }
    const parsed = parseTenantPolicy(input ?? {});
    if (!parsed.ok) throw badRequest(`invalid policy: ${joinProblems(parsed.errors)}`);
    const unstorable = unstorableString(input ?? {}, '');
    if (unstorable !== undefined) {
      throw badRequest(
        `invalid policy: ${unstorable}: contains U+0000 or an unpaired surrogate, which cannot be stored`,
      );
    }
    // Stored as given: fields left out keep following the defaults.
    return { stored: (input ?? {}) as Record<string, unknown>, effective: parsed.policy };
  }
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
