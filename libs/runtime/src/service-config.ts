import { z } from 'zod';
import { Env, nodeEnv, parseEnv, port, url } from './env';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/cimd';

const GatewayEnv = z.object({
  NODE_ENV: nodeEnv,
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port(3000),
  REDIS_URL: url(DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
  DATABASE_URL: url(DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

const FetcherEnv = z.object({
  NODE_ENV: nodeEnv,
  HOST: z.string().min(1).default('0.0.0.0'),
  FETCHER_PORT: port(3001),
  REDIS_URL: url(DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

export interface GatewayConfig {
  nodeEnv: 'development' | 'test' | 'production';
  host: string;
  port: number;
  redisUrl: string;
  databaseUrl: string;
  logLevel: string;
}

export interface FetcherConfig {
  nodeEnv: 'development' | 'test' | 'production';
  host: string;
  /** Health and metrics only: the fetcher serves nothing else. */
  port: number;
  redisUrl: string;
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
    logLevel: e.LOG_LEVEL,
  };
}

export function loadFetcherConfig(env: Env): FetcherConfig {
  const e = parseEnv(FetcherEnv, env);
  return { nodeEnv: e.NODE_ENV, host: e.HOST, port: e.FETCHER_PORT, redisUrl: e.REDIS_URL, logLevel: e.LOG_LEVEL };
}
