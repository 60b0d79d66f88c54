import { CHANNELS } from '@cimd/contracts';
import { quote } from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { RedisPubSub } from '@cimd/store';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Principal } from '../common/auth/principal';
import { notFound, unauthenticated, unavailable } from '../common/domain-error';
import { LocalCache } from '../common/local-cache';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { StoredApiKey, TenantsRepository } from './tenants.repository';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const KEY_FORMAT = new RegExp(`^cimd_(${UUID})_([A-Za-z0-9_-]{43})$`);
const KEY_ID = new RegExp(`^${UUID}$`);
/** How long a verified key is trusted without asking PostgreSQL again (revocations also arrive by pub/sub). */
const KEY_CACHE_MS = 30_000;
/** Verified tokens remembered at most; past that all are dropped at once. */
const MAX_VERIFIED_TOKENS = 10_000;

const ADMIN: Principal = Object.freeze({ kind: 'admin' });

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function principalOfKey(key: StoredApiKey, keyId: string, secret: string): Principal | undefined {
  if (key.revoked || !timingSafeEqual(sha256(secret), key.secretHash)) return undefined;
  return { kind: 'tenant', tenantId: key.tenantId, keyId };
}

/**
 * Tenant API keys: created with 256 random bits, shown once, stored as a SHA-256 of the
 * secret, revocable. Verification is cached in-process so an authorize check does not need
 * PostgreSQL (and keeps working while it is down); a revocation reaches every replica through
 * Redis pub/sub at once.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit {
  private readonly adminHash: Buffer;
  private readonly keys: LocalCache<StoredApiKey>;
  /**
   * Tokens verified without I/O before, with the key record each was verified against: a repeat
   * costs a map lookup, not two SHA-256s, and ends when that record is no longer the one held
   * (revoked, reloaded or expired). Only in this process's memory, as every request's token is.
   */
  private readonly verified = new Map<string, { principal: Principal; key: StoredApiKey | undefined }>();

  constructor(
    private readonly tenants: TenantsRepository,
    private readonly pubsub: RedisPubSub,
    @InjectConfig() config: GatewayConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.adminHash = sha256(config.adminToken);
    this.keys = new LocalCache({
      ttlMs: KEY_CACHE_MS,
      max: 100_000,
      load: (id) => this.tenants.key(id),
      serveStaleOnLoadFailure: true,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.pubsub.subscribe(CHANNELS.invalidations, (message) => {
      if (message.type === 'key') this.keys.invalidate(message.key_id);
    });
  }

  async create(tenantId: string): Promise<{ id: string; key: string }> {
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.tenants.createKey(id, tenantId, sha256(secret));
    return { id, key: `cimd_${id}_${secret}` };
  }

  async revoke(tenantId: string, keyId: string): Promise<void> {
    // Only a well-formed UUID reaches PostgreSQL (a uuid column refuses anything else with an error).
    if (!KEY_ID.test(keyId) || !(await this.tenants.revokeKey(tenantId, keyId)))
      throw notFound(`tenant ${tenantId} has no API key ${quote(keyId, 80)}`);
    this.keys.invalidate(keyId);
    await this.pubsub.publish(CHANNELS.invalidations, { type: 'key', key_id: keyId }).catch((e: Error) => {
      this.logger.warn({ err: e.message }, 'could not announce a key revocation; other replicas drop it within 30 s');
    });
  }

  /** The principal of a bearer token: a 401 for anything but the admin token or a live key, a 503 when keys cannot be checked. */
  async principal(token: string): Promise<Principal> {
    let principal: Principal | undefined;
    try {
      principal = await this.verify(token);
    } catch {
      throw unavailable('API keys cannot be checked right now (the database is unreachable); retry shortly');
    }
    if (!principal) throw unauthenticated('the bearer token is not a valid admin token or API key');
    return principal;
  }

  /** The principal a bearer token stands for, or undefined when it is not a valid token. */
  async verify(token: string): Promise<Principal | undefined> {
    if (timingSafeEqual(sha256(token), this.adminHash)) return ADMIN;
    const m = KEY_FORMAT.exec(token);
    if (!m) return undefined;
    const [, keyId = '', secret = ''] = m;
    const key = this.keys.get(keyId) ?? (await this.keys.load(keyId, undefined));
    return key && principalOfKey(key, keyId, secret);
  }

  /**
   * The principal of a token this process can verify without I/O (the admin token, or a key
   * whose record it holds); undefined otherwise, and the caller takes the path that can load,
   * refuse or explain (`principal`).
   */
  verifyCached(token: string): Principal | undefined {
    const known = this.verified.get(token);
    if (known && (known.principal.kind === 'admin' || this.keys.get(known.principal.keyId) === known.key))
      return known.principal;
    if (timingSafeEqual(sha256(token), this.adminHash)) return this.remember(token, ADMIN);
    const m = KEY_FORMAT.exec(token);
    const keyId = m?.[1] ?? '';
    const key = m ? this.keys.get(keyId) : undefined;
    const principal = key && principalOfKey(key, keyId, m?.[2] ?? '');
    return principal && this.remember(token, principal, key);
  }

  private remember(token: string, principal: Principal, key?: StoredApiKey): Principal {
    if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.clear();
    this.verified.set(token, { principal, key });
    return principal;
  }
}
