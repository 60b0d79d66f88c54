import type Redis from 'ioredis';
import { RedisKeys } from '@cimd/contracts';

/**
 * After consecutive transient failures a client_id is not fetched again before its cooldown
 * ends (30 s, doubling per failure, capped), however many checks ask for it: a client that
 * keeps failing is retried on a backoff, not on every request.
 */
export class FailureCooldown {
  static readonly BASE_MS = 30_000;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly maxSeconds: number,
  ) {}

  async active(clientId: string): Promise<boolean> {
    return (await this.redis.pttl(this.keys.fetchFailures(clientId))) > 0;
  }

  /** Record one more failure; returns the cooldown now in force, in ms. */
  async recordFailure(clientId: string): Promise<number> {
    const key = this.keys.fetchFailures(clientId);
    const failures = await this.redis.incr(key);
    const ms = Math.min(FailureCooldown.BASE_MS * 2 ** Math.min(failures - 1, 20), this.maxSeconds * 1000);
    await this.redis.pexpire(key, ms);
    return ms;
  }

  async clear(clientId: string): Promise<void> {
    await this.redis.del(this.keys.fetchFailures(clientId));
  }
}
