/**
 * @cimd/store: Redis for both apps: connections, typed pub/sub, and the repositories of what
 * the gateway and the fetcher share (the client cache with its logos, the client event stream).
 */
export * from './redis.tokens';
export * from './redis-connections';
export * from './redis-pubsub';
export * from './redis.module';
export * from './client-cache.repository';
export * from './client-event-stream';
export * from './queue-workers';
export * from './quiet-queue';
