import { RedisKeys } from '@cimd/contracts';
import { quote } from '@cimd/core';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource, IsNull } from 'typeorm';
import { notFound } from '../common/api-error';
import { ApiKeyEntity } from '../database/entities';
import type { Subscriptions } from '../infra/subscriptions';
import type { Principal } from './principal';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const KEY_FORMAT = new RegExp(`^cimd_(${UUID})_([A-Za-z0-9_-]{43})$`);
const KEY_ID = new RegExp(`^${UUID}$`);
/** How long a verified key is trusted without asking PostgreSQL again (revocations also arrive by pub/sub). */
const KEY_CACHE_MS = 30_000;

interface CachedKey {
  tenantId: string;
  secretHash: Buffer;
  revoked: boolean;
  loadedAt: number;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Tenant API keys: created with 256 random bits, shown once, stored as a SHA-256 of the
 * secret, revocable. Verification is cached in-process so an authorize check does not need
 * PostgreSQL; a revocation reaches every replica through Redis pub/sub at once.
 */
export class ApiKeysService {
  private readonly cache = new Map<string, CachedKey>();
  private readonly adminHash: Buffer;

  constructor(
    private readonly db: DataSource,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    adminToken: string,
    private readonly logger: Logger,
  ) {
    this.adminHash = sha256(adminToken);
  }

  async listen(subscriptions: Subscriptions): Promise<void> {
    await subscriptions.on(this.keys.invalidations, (raw) => {
      const message = JSON.parse(raw) as { type?: string; key_id?: string };
      if (message.type === 'key' && message.key_id) this.cache.delete(message.key_id);
    });
  }

  async create(tenantId: string): Promise<{ id: string; key: string }> {
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.db
      .getRepository(ApiKeyEntity)
      .insert({ id, tenantId, secretHash: sha256(secret).toString('hex'), revokedAt: null });
    return { id, key: `cimd_${id}_${secret}` };
  }

  async revoke(tenantId: string, keyId: string): Promise<void> {
    const repo = this.db.getRepository(ApiKeyEntity);
    // Only a well-formed UUID reaches PostgreSQL (a uuid column refuses anything else with an error).
    const key = KEY_ID.test(keyId) ? await repo.findOneBy({ id: keyId, tenantId }) : null;
    if (!key) throw notFound(`tenant ${tenantId} has no API key ${quote(keyId, 80)}`);
    await repo.update({ id: keyId, revokedAt: IsNull() }, { revokedAt: new Date() });
    this.cache.delete(keyId);
    await this.redis
      .publish(this.keys.invalidations, JSON.stringify({ type: 'key', key_id: keyId }))
      .catch((e: Error) => {
        this.logger.warn({ err: e.message }, 'could not announce a key revocation; other replicas drop it within 30 s');
      });
  }

  /** The principal a bearer token stands for, or undefined when it is not a valid token. */
  async verify(token: string): Promise<Principal | undefined> {
    const hash = sha256(token);
    if (timingSafeEqual(hash, this.adminHash)) return { kind: 'admin' };
    const m = KEY_FORMAT.exec(token);
    if (!m) return undefined;
    const [, keyId = '', secret = ''] = m;
    const key = await this.load(keyId);
    if (!key || key.revoked) return undefined;
    return timingSafeEqual(sha256(secret), key.secretHash)
      ? { kind: 'tenant', tenantId: key.tenantId, keyId }
      : undefined;
  }

  private async load(keyId: string): Promise<CachedKey | undefined> {
    const cached = this.cache.get(keyId);
    if (cached && Date.now() - cached.loadedAt < KEY_CACHE_MS) return cached;
    try {
      const row = await this.db.getRepository(ApiKeyEntity).findOneBy({ id: keyId });
      if (!row) {
        this.cache.delete(keyId);
        return undefined;
      }
      const entry = {
        tenantId: row.tenantId,
        secretHash: Buffer.from(row.secretHash, 'hex'),
        revoked: row.revokedAt !== null,
        loadedAt: Date.now(),
      };
      this.cache.set(keyId, entry);
      return entry;
    } catch (e) {
      // PostgreSQL down: a key verified before keeps working (revocations still arrive by pub/sub).
      if (cached) return cached;
      throw e;
    }
  }
}
