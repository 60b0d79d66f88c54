import { z } from 'zod';
import { Env, logLevel, nodeEnv, parseEnv, port, redisPrefix, url } from '@cimd/runtime';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/cimd';

const GatewayEnv = z.object({
  NODE_ENV: nodeEnv,
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port(3000),
  REDIS_URL: url(DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
  DATABASE_URL: url(DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']),
  LOG_LEVEL: logLevel,
  CIMD_REDIS_PREFIX: redisPrefix,
});

export interface GatewayConfig {
  nodeEnv: 'development' | 'test' | 'production';
  host: string;
  port: number;
  redisUrl: string;
  databaseUrl: string;
  redisPrefix: string;
  logLevel: string;
}

export function loadGatewayConfig(env: Env): GatewayConfig {
  const e = parseEnv(GatewayEnv, env);
  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    redisPrefix: e.CIMD_REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
  };
}
