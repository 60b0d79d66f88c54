/**
 * @cimd/contracts: what the processes agree on: Redis keys, the fetch and webhook queues' jobs,
 * the client event stream's format, and the pub/sub messages, each a zod schema parsed where
 * it is read.
 */
export * from './client-key';
export * from './redis-keys';
export * from './fetch-queue';
export * from './client-events';
export * from './webhook-queue';
export * from './messages';
export * from './grpc-proto';
export * as grpc from './grpc';
