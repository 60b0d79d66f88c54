import Redis, { RedisOptions } from 'ioredis';

/**
 * One Redis connection for the app; commands fail fast rather than queue while it is down.
 * `disconnectTimeout`: disconnecting while Redis is unreachable arms a timer that nothing clears
 * (ioredis#1247), which would hold the process for the 2 s default after shutdown.
 */
export function createRedis(redisUrl: string): Redis {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    disconnectTimeout: 200,
  });
  // Connection errors surface on the commands that fail and in readiness; ioredis reconnects by itself.
  redis.on('error', () => undefined);
  return redis;
}

/** Connect now if Redis answers; otherwise start anyway: readiness reports it and ioredis keeps retrying. */
export async function connectRedis(redisUrl: string): Promise<Redis> {
  const redis = createRedis(redisUrl);
  await redis.connect().catch(() => undefined);
  return redis;
}

/**
 * Connection options for BullMQ, so that each Queue, Worker and QueueEvents owns (and on close
 * ends) its connections: a connection handed in as an instance is never closed by BullMQ, and
 * ending it from outside while Redis is down makes BullMQ raise errors nobody can catch.
 * Producers fail fast (an authorize check answers "pending" instead of hanging); workers wait.
 */
export function bullmqConnection(redisUrl: string, role: 'producer' | 'worker'): RedisOptions {
  const parsed = new Redis(redisUrl, { lazyConnect: true });
  const options: RedisOptions = { ...parsed.options, lazyConnect: false, disconnectTimeout: 200 };
  parsed.disconnect();
  return role === 'producer'
    ? { ...options, enableOfflineQueue: false, maxRetriesPerRequest: 1 }
    : { ...options, maxRetriesPerRequest: null };
}
