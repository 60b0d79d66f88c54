import { RedisKeys } from '@cimd/contracts';
import { InjectRedis, RedisClient } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import { FetcherConfig, InjectFetcherConfig } from '../fetcher-config';

/**
 * Fixed-window limit on fetches towards one origin, shared by every fetcher through Redis,
 * so that client_ids pointing at one victim host cannot turn the fleet into a reflector.
 */
@Injectable()
export class OriginRateLimiter {
  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @InjectFetcherConfig() private readonly config: Pick<FetcherConfig, 'originRateLimit'>,
  ) {}

  /** Milliseconds to wait before fetching from `origin`, or 0 to go now (and count it). */
  async acquire(origin: string, now = Date.now()): Promise<number> {
    const { max, windowMs } = this.config.originRateLimit;
    const window = Math.floor(now / windowMs);
    const key = this.keys.originWindow(origin, window);
    const result = await this.redis
      .multi()
      .incr(key)
      .pexpire(key, windowMs * 2)
      .exec();
    const count = Number(result?.[0]?.[1] ?? 0);
    if (count <= max) return 0;
    // Spread the waiting jobs over the next window instead of releasing them all at its start.
    return (window + 1) * windowMs - now + Math.floor(Math.random() * windowMs);
  }

  /**
   * Take back a fetch counted by `acquire(origin, countedAt)` that was not made after all. Best
   * effort: a count not taken back only holds a fetch back until the window ends.
   */
  async giveBack(origin: string, countedAt: number): Promise<void> {
    const { windowMs } = this.config.originRateLimit;
    const key = this.keys.originWindow(origin, Math.floor(countedAt / windowMs));
    // With its expiry again: a key that expired meanwhile must not come back without one.
    await this.redis
      .multi()
      .decr(key)
      .pexpire(key, windowMs * 2)
      .exec()
      .catch(() => undefined);
  }
}
