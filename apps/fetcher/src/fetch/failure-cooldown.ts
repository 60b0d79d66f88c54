import { RedisKeys } from '@cimd/contracts';
import { failureCooldownMs } from '@cimd/core';
import { InjectRedis, RedisClient } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import { FetcherConfig, InjectFetcherConfig } from '../fetcher-config';

/**
 * The count of a client_id's consecutive transient failures, whose time to live is its
 * cooldown (failureCooldownMs): while it lasts the client is not fetched again, however many
 * checks ask for it. The only code that touches these keys.
 */
@Injectable()
export class FailureCooldown {
  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @InjectFetcherConfig() private readonly config: Pick<FetcherConfig, 'cooldownMaxSeconds'>,
  ) {}

  async active(clientId: string): Promise<boolean> {
    return (await this.redis.pttl(this.keys.fetchFailures(clientId))) > 0;
  }

  /** Record one more failure; returns the cooldown now in force, in ms. */
  async recordFailure(clientId: string): Promise<number> {
    const key = this.keys.fetchFailures(clientId);
    const failures = await this.redis.incr(key);
    const ms = failureCooldownMs(failures, this.config.cooldownMaxSeconds);
    await this.redis.pexpire(key, ms);
    return ms;
  }

  async clear(clientId: string): Promise<void> {
    await this.redis.del(this.keys.fetchFailures(clientId));
  }
}
