import { RedisKeys } from '@cimd/contracts';
import { ASSERTION_SKEW_SECONDS } from '@cimd/core';
import { InjectRedis, RedisClient, RedisConnections } from '@cimd/store';
import { Injectable, OnModuleInit } from '@nestjs/common';

/** Records jtis, one SET NX PX each, many per call: KEYS the jtis' keys, ARGV their lifetimes (ms); 1 recorded, 0 seen before. */
const CLAIM_JTIS = `
local recorded = {}
for i, key in ipairs(KEYS) do
  recorded[i] = redis.call('SET', key, '1', 'PX', ARGV[i], 'NX') and 1 or 0
end
return recorded`;

type JtiConnection = RedisClient & {
  claimJtis(numberOfKeys: number, ...keysThenTtls: (string | number)[]): Promise<number[]>;
};

interface PendingClaim {
  key: string;
  ttlMs: number;
  settle: (recorded: boolean) => void;
  fail: (error: unknown) => void;
}

/**
 * What client authentication keeps in Redis, fleet-wide: the jti of every assertion accepted,
 * per tenant and client, until the assertion expires (and the clock skew after), so a replay
 * is refused by every gateway; and the gate that lets a client's keys be fetched again for an
 * unknown kid at most once a minute.
 *
 * Every accepted assertion records its jti. The jtis recorded in one turn of the event loop go
 * to Redis together, as one script call per client (a client's keys share a hash slot, so this
 * holds on a Redis Cluster; on one server all of them in one call): a command and a write per
 * request cost the gateway more CPU than the rest of the Redis work of an authentication.
 */
@Injectable()
export class ClientAuthRepository implements OnModuleInit {
  private jtis!: JtiConnection;
  private pending = new Map<string, PendingClaim[]>();
  private flushScheduled = false;

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  onModuleInit(): void {
    this.redis.defineCommand('claimJtis', { lua: CLAIM_JTIS });
    this.jtis = this.redis as JtiConnection;
  }

  /** Record a jti of the client whose key (clientKey) is `client`; false when it was recorded before (a replay). */
  claim(tenantId: string, client: string, jti: string, expSeconds: number, now: number): Promise<boolean> {
    const ttlMs = Math.max(1000, Math.ceil(expSeconds * 1000 - now) + ASSERTION_SKEW_SECONDS * 1000);
    const key = this.keys.assertionJti(tenantId, client, jti);
    return new Promise((settle, fail) => {
      const group = this.connections.isCluster ? client : '';
      const claims = this.pending.get(group);
      if (claims) claims.push({ key, ttlMs, settle, fail });
      else this.pending.set(group, [{ key, ttlMs, settle, fail }]);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const groups = this.pending;
    this.pending = new Map();
    this.flushScheduled = false;
    for (const claims of groups.values()) {
      const args: (string | number)[] = claims.map((c) => c.key);
      for (const c of claims) args.push(c.ttlMs);
      this.jtis.claimJtis(claims.length, ...args).then(
        (recorded) => claims.forEach((c, i) => c.settle(recorded[i] === 1)),
        (error: unknown) => claims.forEach((c) => c.fail(error)),
      );
    }
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
