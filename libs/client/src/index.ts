/**
 * @cimd/client: what an authorization server (or any internal service) uses to ask
 * cimd-gateway about CIMD clients, over HTTP or gRPC with the same types and errors: authorize
 * checks and client authentication (with bounded retries of `pending`), client look-ups,
 * sessions, and the tenant's events as a stream that resumes after a break.
 */
export * from './types';
export * from './errors';
export * from './retry-policy';
export * from './event-stream';
export type { GatewayClientOptions } from './gateway-calls';
export * from './http-gateway-client';
export * from './grpc-gateway-client';
