import type Redis from 'ioredis';
import { RedisKeys } from '@cimd/contracts';

/**
 * Fixed-window limit on fetches towards one origin, shared by every fetcher through Redis,
 * so that client_ids pointing at one victim host cannot turn the fleet into a reflector.
 */
export class OriginRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds to wait before fetching from `origin`, or 0 to go now (and count it). */
  async acquire(origin: string, now = Date.now()): Promise<number> {
    const window = Math.floor(now / this.windowMs);
    const key = this.keys.originWindow(origin, window);
    const result = await this.redis
      .multi()
      .incr(key)
      .pexpire(key, this.windowMs * 2)
      .exec();
    const count = Number(result?.[0]?.[1] ?? 0);
    if (count <= this.max) return 0;
    // Spread the waiting jobs over the next window instead of releasing them all at its start.
    return (window + 1) * this.windowMs - now + Math.floor(Math.random() * this.windowMs);
  }
}
