/** @cimd/contracts: what the gateway and the fetcher agree on: Redis keys, the cache entry, the fetch queue, the events. */
export * from './client-key';
export * from './redis-keys';
export * from './fetch-queue';
export * from './cache-entry';
export * from './client-events';
export * from './webhook-queue';
