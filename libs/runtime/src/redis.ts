import Redis from 'ioredis';

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
