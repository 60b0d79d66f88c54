import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { ApiKeyEntity, TenantEntity, TenantPolicyEntity } from '../database/entities';

/** A stored policy version: the policy as the tenant gave it (defaults are applied when read). */
export interface StoredPolicy {
  version: number;
  policy: Record<string, unknown>;
}

/** A stored API key: only the SHA-256 of its secret. */
export interface StoredApiKey {
  tenantId: string;
  secretHash: Buffer;
  revoked: boolean;
}

/** Tenants, their versioned policies and their API keys (PostgreSQL). */
@Injectable()
export class TenantsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A new tenant with its first policy; false when the id is taken. */
  async create(tenantId: string, policy: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.getRepository(TenantEntity).insert({ id: tenantId });
        await tx.getRepository(TenantPolicyEntity).insert({ tenantId, version: 1, policy: policy as never });
      });
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === '23505') return false;
      throw e;
    }
  }

  async exists(tenantId: string): Promise<boolean> {
    return this.db.getRepository(TenantEntity).existsBy({ id: tenantId });
  }

  /** The policy in force (the highest version), or undefined for an unknown tenant. */
  async currentPolicy(tenantId: string): Promise<StoredPolicy | undefined> {
    const row = await this.db
      .getRepository(TenantPolicyEntity)
      .findOne({ where: { tenantId }, order: { version: 'DESC' } });
    return row ? { version: row.version, policy: row.policy } : undefined;
  }

  /** Store `policy` as the next version; undefined for an unknown tenant. Concurrent writers get consecutive versions. */
  async appendPolicy(tenantId: string, policy: Record<string, unknown>): Promise<number | undefined> {
    return this.db.transaction(async (tx) => {
      const tenant = await tx
        .getRepository(TenantEntity)
        .findOne({ where: { id: tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!tenant) return undefined;
      const latest = await tx.getRepository(TenantPolicyEntity).maximum('version', { tenantId });
      const next = (latest ?? 0) + 1;
      await tx.getRepository(TenantPolicyEntity).insert({ tenantId, version: next, policy: policy as never });
      return next;
    });
  }

  async createKey(id: string, tenantId: string, secretHash: Buffer): Promise<void> {
    await this.db
      .getRepository(ApiKeyEntity)
      .insert({ id, tenantId, secretHash: secretHash.toString('hex'), revokedAt: null });
  }

  async key(id: string): Promise<StoredApiKey | undefined> {
    const row = await this.db.getRepository(ApiKeyEntity).findOneBy({ id });
    return row
      ? { tenantId: row.tenantId, secretHash: Buffer.from(row.secretHash, 'hex'), revoked: row.revokedAt !== null }
      : undefined;
  }

  /** Revoke one of the tenant's keys; false when it has no such key. */
  async revokeKey(tenantId: string, id: string): Promise<boolean> {
    const repo = this.db.getRepository(ApiKeyEntity);
    if (!(await repo.existsBy({ id, tenantId }))) return false;
    await repo.update({ id, revokedAt: IsNull() }, { revokedAt: new Date() });
    return true;
  }
}
