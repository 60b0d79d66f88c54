import { z } from 'zod';
import { Env, gather, logFormat, logLevel, nodeEnv, parseEnv, redisPrefix } from './env';
import type { LogFormat } from './logger';
import { parseRedisEnv, RedisTopology } from './redis-env';

/** The variables the gateway and the fetcher read alike: spread into each one's schema. */
export const SERVICE_ENV = {
  NODE_ENV: nodeEnv,
  HOST: z.string().min(1).default('0.0.0.0'),
  CIMD_REDIS_PREFIX: redisPrefix,
  LOG_LEVEL: logLevel,
  LOG_FORMAT: logFormat,
};

type ServiceVariables = z.output<z.ZodObject<typeof SERVICE_ENV>>;

/** The part of the configuration every service has: its environment, its address, its Redis and its logs. */
export interface ServiceConfig {
  nodeEnv: 'development' | 'test' | 'production';
  host: string;
  /** One server, a Redis Cluster or a Sentinel-managed primary (parseRedisEnv). */
  redis: RedisTopology;
  redisPrefix: string;
  logLevel: string;
  /** LOG_FORMAT as set; unset, the format follows from NODE_ENV and whether stdout is a terminal. */
  logFormat?: LogFormat;
}

/**
 * `env` read with a service's schema (one that spreads SERVICE_ENV) and with parseRedisEnv: its
 * variables and the ServiceConfig part, or undefined with every problem of both parsers added
 * to `problems`, so that one start-up error names every bad variable.
 */
export function parseServiceEnv<S extends z.ZodType<ServiceVariables>>(
  schema: S,
  env: Env,
  problems: string[],
): { variables: z.output<S>; service: ServiceConfig } | undefined {
  const variables = gather(problems, () => parseEnv(schema, env));
  const redis = gather(problems, () => parseRedisEnv(env));
  if (!variables || !redis) return undefined;
  const e: ServiceVariables = variables;
  return {
    variables,
    service: {
      nodeEnv: e.NODE_ENV,
      host: e.HOST,
      redis,
      redisPrefix: e.CIMD_REDIS_PREFIX,
      logLevel: e.LOG_LEVEL,
      ...(e.LOG_FORMAT ? { logFormat: e.LOG_FORMAT } : {}),
    },
  };
}
