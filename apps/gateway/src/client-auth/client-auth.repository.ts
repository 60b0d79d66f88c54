import { RedisKeys } from '@cimd/contracts';
import { ASSERTION_SKEW_SECONDS } from '@cimd/core';
import { InjectRedis } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';

/**
 * What client authentication keeps in Redis, fleet-wide: the jti of every assertion accepted,
 * per tenant and client, until the assertion expires (and the clock skew after), so a replay
 * is refused by every gateway; and the gate that lets a client's keys be fetched again for an
 * unknown kid at most once a minute.
 */
@Injectable()
export class ClientAuthRepository {
  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Record a jti; false when it was recorded before (a replay). */
  async claim(tenantId: string, clientId: string, jti: string, expSeconds: number, now: number): Promise<boolean> {
    const ttlMs = Math.max(1000, Math.ceil(expSeconds * 1000 - now) + ASSERTION_SKEW_SECONDS * 1000);
    const set = await this.redis.set(this.keys.assertionJti(tenantId, clientId, jti), '1', 'PX', ttlMs, 'NX');
    return set === 'OK';
  }

  /** Take the right to fetch a client's keys again for an unknown kid; false while another took it less than `windowMs` ago. */
  async gateKeysRefresh(
    clientId: string,
    windowMs: number,
    now: number,
  ): Promise<{ acquired: boolean; since: number }> {
    const key = this.keys.keysRefreshGate(clientId);
    if ((await this.redis.set(key, String(now), 'PX', windowMs, 'NX')) === 'OK') return { acquired: true, since: now };
    const since = Number(await this.redis.get(key));
    return { acquired: false, since: Number.isFinite(since) ? since : now };
  }
}
