import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';

/** Where a deployment's Redis is, and the prefix that keeps its keys apart from others'. */
export interface RedisSettings {
  url: string;
  prefix: string;
}

export const REDIS_SETTINGS = Symbol('REDIS_SETTINGS');

/**
 * How a connection behaves while Redis is down:
 * - `commands`: fails fast (an authorize check answers "pending" rather than hang);
 * - `waiting`: waits for Redis (a blocking stream read, a subscriber, a worker).
 */
export type ConnectionRole = 'commands' | 'waiting';

/**
 * Options of a connection in `role`. `disconnectTimeout`: disconnecting while Redis is
 * unreachable arms a timer that nothing clears (ioredis#1247), which would hold the process for
 * the 2 s default after shutdown.
 */
export function redisOptions(url: string, role: ConnectionRole): RedisOptions {
  const parsed = new Redis(url, { lazyConnect: true });
  const base: RedisOptions = { ...parsed.options, lazyConnect: true, disconnectTimeout: 200 };
  parsed.disconnect();
  return role === 'commands'
    ? { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false }
    : { ...base, maxRetriesPerRequest: null };
}

/**
 * Every Redis connection of a process comes from here, by name, and is closed at shutdown:
 * the shared `commands` connection (the REDIS token), and dedicated ones for whatever holds a
 * connection (a blocking stream read, the subscriber). BullMQ gets options rather than
 * connections (`bullmq`), so that each queue and worker owns, and on close ends, its own.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly open = new Map<string, Redis>();
  private readonly connecting = new Map<string, Promise<void>>();

  constructor(@Inject(REDIS_SETTINGS) private readonly settings: RedisSettings) {}

  /** The named connection, made on first use. It connects in the background; errors surface on commands and in readiness. */
  get(name: string, role: ConnectionRole): Redis {
    let redis = this.open.get(name);
    if (!redis) {
      redis = new Redis(redisOptions(this.settings.url, role));
      // ioredis reconnects by itself; an unhandled 'error' event would end the process.
      redis.on('error', () => undefined);
      this.connecting.set(
        name,
        redis.connect().catch(() => undefined),
      );
      this.open.set(name, redis);
    }
    return redis;
  }

  /** `get`, once the first attempt to connect has ended: connected if Redis answers, retrying in the background if not. */
  async connected(name: string, role: ConnectionRole): Promise<Redis> {
    const redis = this.get(name, role);
    await this.connecting.get(name);
    return redis;
  }

  /** Connection options for BullMQ: producers fail fast, workers wait. */
  bullmq(role: 'producer' | 'worker'): RedisOptions {
    const options = redisOptions(this.settings.url, role === 'producer' ? 'commands' : 'waiting');
    return { ...options, lazyConnect: false, ...(role === 'producer' ? { maxRetriesPerRequest: 1 } : {}) };
  }

  onApplicationShutdown(): void {
    for (const redis of this.open.values()) redis.disconnect();
    this.open.clear();
  }
}
