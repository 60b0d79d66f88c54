import { Inject } from '@nestjs/common';
import { DEFAULT_WEBHOOK_PORTS } from '@cimd/core';
import {
  ConfigError,
  DEFAULT_REDIS_URL,
  Env,
  int,
  list,
  parseServiceEnv,
  port,
  SERVICE_ENV,
  ServiceConfig,
  url,
} from '@cimd/runtime';
import { z } from 'zod';

export { DEFAULT_REDIS_URL };
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/cimd';

/** Every variable the gateway reads: docs/OPERATIONS.md documents each one (test/docs.test.ts). */
export const GatewayEnv = z.object({
  ...SERVICE_ENV,
  PORT: port(3000),
  GRPC_PORT: port(50051),
  DATABASE_URL: url(DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']),
  CIMD_ADMIN_TOKEN: z
    .string({ message: 'is required: the platform admin bearer token (at least 16 characters)' })
    .min(16, 'must be at least 16 characters')
    // What BearerAuthGuard accepts in "Authorization: Bearer <token>"; any other token could never be used.
    .max(512, 'must be at most 512 characters')
    .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces'),
  CIMD_AUTHORIZE_WAIT_MS: int(2500, 0, 30_000),
  // At most a second: a tombstone must reach every replica within one.
  CIMD_LOCAL_CACHE_MS: int(1000, 0, 1000),
  CIMD_REVALIDATE_INTERVAL_MS: int(30_000, 1000, 3_600_000),
  CIMD_EVENTS_CLAIM_IDLE_MS: int(60_000, 1000, 3_600_000),
  CIMD_MIGRATE: z.enum(['auto', 'off']).optional(),
  // Slow clients: a request (headers and body) must arrive within this; idle connections end.
  CIMD_HTTP_REQUEST_TIMEOUT_MS: int(10_000, 1000, 300_000),
  // Longer than the 60 s idle timeout of common proxies, so that the proxy closes first.
  CIMD_HTTP_KEEP_ALIVE_TIMEOUT_MS: int(65_000, 1000, 600_000),
  CIMD_GRPC_KEEPALIVE_TIME_MS: int(60_000, 1000, 3_600_000),
  CIMD_GRPC_MAX_CONNECTION_IDLE_MS: int(300_000, 1000, 86_400_000),
  CIMD_GRPC_MAX_CONNECTION_AGE_MS: int(1_800_000, 1000, 86_400_000),
  CIMD_GRPC_MAX_CONNECTION_AGE_GRACE_MS: int(60_000, 0, 3_600_000),
  CIMD_WEBHOOK_ALLOWED_PORTS: list().refine(
    (ports) => ports.every((p) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535),
    { message: 'must be port numbers (1-65535) separated by commas' },
  ),
  CIMD_PUBLIC_URL: z
    .string()
    .refine(isBaseUrl, { message: 'must be an absolute http or https URL without credentials, query or fragment' })
    .optional(),
});

/** A base URL other URLs are appended to (logo URLs shown on consent screens). */
function isBaseUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return ['http:', 'https:'].includes(u.protocol) && !u.username && !u.password && !/[?#]/.test(value);
  } catch {
    return false;
  }
}

export interface GatewayConfig extends ServiceConfig {
  port: number;
  grpcPort: number;
  databaseUrl: string;
  adminToken: string;
  /** How long an authorize check waits for the fetch of an uncached client. */
  authorizeWaitMs: number;
  /** How long a replica answers from its in-process copy of a cache entry before reading Redis again (0: never). */
  localCacheMs: number;
  /** How often clients with active sessions are checked for a due revalidation. */
  revalidateIntervalMs: number;
  /** How long a client event may stay unacknowledged by a gateway before another one claims it. */
  eventsClaimIdleMs: number;
  /** Run migrations at start (the development default) or leave them to `npm run migrate`. */
  migrate: 'auto' | 'off';
  /** Base URL browsers reach this gateway at; logo URLs in decisions are built on it. */
  publicUrl: string;
  /** A request whose headers and body are not all received within this is answered 408 and closed. */
  httpRequestTimeoutMs: number;
  /** An idle keep-alive HTTP connection is closed after this. */
  httpKeepAliveTimeoutMs: number;
  /** gRPC: ping each connection this often (a peer that does not answer within 20 s is dropped). */
  grpcKeepaliveTimeMs: number;
  /** gRPC: close a connection without calls for this long (GOAWAY; clients reconnect). */
  grpcMaxConnectionIdleMs: number;
  /** gRPC: close every connection after this long (±10%), calls in flight get the grace below. */
  grpcMaxConnectionAgeMs: number;
  grpcMaxConnectionAgeGraceMs: number;
  /** Ports a tenant's webhook URL may name (the fetcher's CIMD_FETCH_ALLOWED_PORTS should match). */
  webhookAllowedPorts: number[];
}

export function loadGatewayConfig(env: Env): GatewayConfig {
  const problems: string[] = [];
  const parsed = parseServiceEnv(GatewayEnv, env, problems);
  if (!parsed) {
    // Start-up errors end up in logs: never quote the admin token.
    const token = env.CIMD_ADMIN_TOKEN;
    const quoted = token === undefined ? undefined : ` (got ${JSON.stringify(token)})`;
    throw new ConfigError(
      problems.map((p) => (quoted && p.startsWith('CIMD_ADMIN_TOKEN:') ? p.replace(quoted, ' (value not shown)') : p)),
    );
  }
  const { variables: e, service } = parsed;
  const publicUrl = new URL(e.CIMD_PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`).toString().replace(/\/$/, '');
  return {
    ...service,
    port: e.PORT,
    grpcPort: e.GRPC_PORT,
    databaseUrl: e.DATABASE_URL,
    adminToken: e.CIMD_ADMIN_TOKEN,
    authorizeWaitMs: e.CIMD_AUTHORIZE_WAIT_MS,
    localCacheMs: e.CIMD_LOCAL_CACHE_MS,
    revalidateIntervalMs: e.CIMD_REVALIDATE_INTERVAL_MS,
    eventsClaimIdleMs: e.CIMD_EVENTS_CLAIM_IDLE_MS,
    migrate: e.CIMD_MIGRATE ?? (e.NODE_ENV === 'production' ? 'off' : 'auto'),
    publicUrl,
    httpRequestTimeoutMs: e.CIMD_HTTP_REQUEST_TIMEOUT_MS,
    httpKeepAliveTimeoutMs: e.CIMD_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    grpcKeepaliveTimeMs: e.CIMD_GRPC_KEEPALIVE_TIME_MS,
    grpcMaxConnectionIdleMs: e.CIMD_GRPC_MAX_CONNECTION_IDLE_MS,
    grpcMaxConnectionAgeMs: e.CIMD_GRPC_MAX_CONNECTION_AGE_MS,
    grpcMaxConnectionAgeGraceMs: e.CIMD_GRPC_MAX_CONNECTION_AGE_GRACE_MS,
    webhookAllowedPorts:
      e.CIMD_WEBHOOK_ALLOWED_PORTS.length > 0 ? e.CIMD_WEBHOOK_ALLOWED_PORTS.map(Number) : [...DEFAULT_WEBHOOK_PORTS],
  };
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export const InjectConfig = (): ParameterDecorator => Inject(GATEWAY_CONFIG);
