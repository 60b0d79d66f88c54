import { Inject } from '@nestjs/common';
import {
  ConfigError,
  Env,
  int,
  logFormat,
  LogFormat,
  logLevel,
  nodeEnv,
  parseEnv,
  port,
  redisPrefix,
  url,
} from '@cimd/runtime';
import { z } from 'zod';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/cimd';

const GatewayEnv = z.object({
  NODE_ENV: nodeEnv,
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port(3000),
  GRPC_PORT: port(50051),
  REDIS_URL: url(DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
  DATABASE_URL: url(DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']),
  LOG_LEVEL: logLevel,
  LOG_FORMAT: logFormat,
  CIMD_REDIS_PREFIX: redisPrefix,
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

export interface GatewayConfig {
  nodeEnv: 'development' | 'test' | 'production';
  host: string;
  port: number;
  grpcPort: number;
  redisUrl: string;
  databaseUrl: string;
  redisPrefix: string;
  logLevel: string;
  /** LOG_FORMAT as set; unset, the format follows from NODE_ENV and whether stdout is a terminal. */
  logFormat?: LogFormat;
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
}

export function loadGatewayConfig(env: Env): GatewayConfig {
  let e: z.output<typeof GatewayEnv>;
  try {
    e = parseEnv(GatewayEnv, env);
  } catch (err) {
    // Start-up errors end up in logs: never quote the admin token.
    const token = env.CIMD_ADMIN_TOKEN;
    if (!(err instanceof ConfigError) || token === undefined) throw err;
    const quoted = ` (got ${JSON.stringify(token)})`;
    throw new ConfigError(
      err.problems.map((p) => (p.startsWith('CIMD_ADMIN_TOKEN:') ? p.replace(quoted, ' (value not shown)') : p)),
    );
  }
  const publicUrl = new URL(e.CIMD_PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`).toString().replace(/\/$/, '');
  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    grpcPort: e.GRPC_PORT,
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    redisPrefix: e.CIMD_REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    ...(e.LOG_FORMAT ? { logFormat: e.LOG_FORMAT } : {}),
    adminToken: e.CIMD_ADMIN_TOKEN,
    authorizeWaitMs: e.CIMD_AUTHORIZE_WAIT_MS,
    localCacheMs: e.CIMD_LOCAL_CACHE_MS,
    revalidateIntervalMs: e.CIMD_REVALIDATE_INTERVAL_MS,
    eventsClaimIdleMs: e.CIMD_EVENTS_CLAIM_IDLE_MS,
    migrate: e.CIMD_MIGRATE ?? (e.NODE_ENV === 'production' ? 'off' : 'auto'),
    publicUrl,
  };
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export const InjectConfig = (): ParameterDecorator => Inject(GATEWAY_CONFIG);
