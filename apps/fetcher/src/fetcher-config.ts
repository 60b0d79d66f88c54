import { Inject } from '@nestjs/common';
import { AddressAllowList, assertValidCacheBounds, CacheBounds, DEFAULT_MAX_DOCUMENT_BYTES } from '@cimd/core';
import { bool, ConfigError, Env, int, list, parseServiceEnv, port, SERVICE_ENV, ServiceConfig } from '@cimd/runtime';
import { DEFAULT_MAX_JWKS_BYTES, DEFAULT_MAX_LOGO_BYTES, parseResolveMap, SafeFetchOptions } from '@cimd/safe-fetch';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Every variable the fetcher reads: docs/OPERATIONS.md documents each one (test/docs.test.ts). */
export const FetcherEnv = z.object({
  ...SERVICE_ENV,
  FETCHER_PORT: port(3001),
  CIMD_FETCH_TIMEOUT_MS: int(5000, 100, 60_000),
  CIMD_FETCH_MAX_BYTES: int(DEFAULT_MAX_DOCUMENT_BYTES, 256, 1024 * 1024),
  CIMD_FETCH_ALLOWED_PORTS: list(),
  CIMD_FETCH_ACCEPT_TEXT_PLAIN: bool(true),
  CIMD_FETCH_RESOLVE: z.string().optional(),
  CIMD_FETCH_CA_FILE: z.string().optional(),
  CIMD_FETCH_ALLOW_CIDRS: list(),
  CIMD_FETCH_CONCURRENCY: int(16, 1, 1000),
  CIMD_FETCH_GLOBAL_CONCURRENCY: int(64, 1, 10_000),
  CIMD_ORIGIN_RATE_LIMIT: int(20, 1, 100_000),
  CIMD_ORIGIN_RATE_WINDOW_MS: int(10_000, 100, 3_600_000),
  CIMD_FETCH_COOLDOWN_MAX_SECONDS: int(3600, 1, 86_400),
  CIMD_CACHE_MIN_SECONDS: int(60, 0, 86_400),
  CIMD_CACHE_MAX_SECONDS: int(86_400, 1, 7 * 86_400),
  CIMD_CACHE_DEFAULT_SECONDS: int(3600, 1, 7 * 86_400),
  CIMD_CACHE_REFRESH_AHEAD: z.coerce.number().gt(0).lte(1).default(0.8),
  CIMD_STALE_RETENTION_SECONDS: int(7 * 86_400, 0, 30 * 86_400),
  CIMD_LOGO_MAX_BYTES: int(DEFAULT_MAX_LOGO_BYTES, 1024, 4 * 1024 * 1024),
  CIMD_FETCH_JWKS_MAX_BYTES: int(DEFAULT_MAX_JWKS_BYTES, 256, 1024 * 1024),
  CIMD_GONE_CONFIRM_DELAY_MS: int(60_000, 0, 86_400_000),
  // Short, so that a killed fetcher's jobs run again within seconds (see lockDurationMs below).
  CIMD_FETCH_LOCK_DURATION_MS: int(5000, 1000, 600_000),
  CIMD_FETCH_STALLED_INTERVAL_MS: int(2500, 500, 600_000),
});

export interface FetcherConfig extends ServiceConfig {
  /** Health and metrics only: the fetcher serves nothing else. */
  port: number;
  fetch: Omit<SafeFetchOptions, 'userAgent' | 'resolver'>;
  cacheBounds: CacheBounds;
  /** How long an expired document stays in Redis for the gateway's stale-if-error window. */
  staleRetentionSeconds: number;
  logoMaxBytes: number;
  /** Largest key set read from a client's jwks_uri. */
  jwksMaxBytes: number;
  /** Jobs this process runs at once, and across all fetcher processes. */
  concurrency: number;
  globalConcurrency: number;
  /** Fetches towards one origin (scheme, host, port) per window, across all fetchers. */
  originRateLimit: { max: number; windowMs: number };
  /** Longest wait before a client whose fetches keep failing is tried again. */
  cooldownMaxSeconds: number;
  /** A valid client whose document vanishes is declared gone only if it is still gone this much later. */
  goneConfirmDelayMs: number;
  /**
   * BullMQ job lock of the fetch and webhook workers, renewed every half of it while a job runs,
   * and how often the fleet looks for jobs whose lock is gone (one check per interval across all
   * fetchers). A killed fetcher's jobs go back to waiting at most lockDurationMs +
   * stalledIntervalMs after the kill: 7.5 s by default, so that clients waiting on an
   * authorization get their answer within 15 s (a fetch takes at most CIMD_FETCH_TIMEOUT_MS).
   *
   * The cost of a short lock: a fetcher that cannot renew for half of it (event loop blocked,
   * Redis unreachable for 2.5 s) loses its jobs to another fetcher, which fetches the document
   * again (the write-back is the same; the first result is dropped), and a job that loses its
   * lock twice fails and is enqueued again by the next check. Renewals are one Redis call per
   * fetcher per half lock, checks one per interval for the fleet.
   */
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/** Variables that open holes in the SSRF defences: for tests and demos, never production. */
const OVERRIDES = ['CIMD_FETCH_RESOLVE', 'CIMD_FETCH_CA_FILE', 'CIMD_FETCH_ALLOW_CIDRS'] as const;

export function loadFetcherConfig(env: Env): FetcherConfig {
  const problems: string[] = [];
  const parsed = parseServiceEnv(FetcherEnv, env, problems);
  if (!parsed) throw new ConfigError(problems);
  const { variables: e, service } = parsed;
  if (e.NODE_ENV === 'production') {
    for (const name of OVERRIDES) {
      if (env[name] !== undefined && env[name] !== '')
        problems.push(`${name}: is a test override and is refused when NODE_ENV=production`);
    }
  }
  const ports = e.CIMD_FETCH_ALLOWED_PORTS.length > 0 ? e.CIMD_FETCH_ALLOWED_PORTS.map(Number) : [443];
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    problems.push(
      `CIMD_FETCH_ALLOWED_PORTS: must be port numbers separated by commas (got ${JSON.stringify(env.CIMD_FETCH_ALLOWED_PORTS)})`,
    );
  }
  let resolve = new Map<string, string[]>();
  if (e.CIMD_FETCH_RESOLVE) {
    try {
      resolve = parseResolveMap(e.CIMD_FETCH_RESOLVE);
    } catch (err) {
      problems.push(`CIMD_FETCH_RESOLVE: ${(err as Error).message}`);
    }
  }
  try {
    new AddressAllowList(e.CIMD_FETCH_ALLOW_CIDRS);
  } catch (err) {
    problems.push(`CIMD_FETCH_ALLOW_CIDRS: ${(err as Error).message}`);
  }
  let extraCa: string | undefined;
  if (e.CIMD_FETCH_CA_FILE) {
    try {
      extraCa = readFileSync(e.CIMD_FETCH_CA_FILE, 'utf8');
      if (!extraCa.includes('-----BEGIN CERTIFICATE-----'))
        problems.push(`CIMD_FETCH_CA_FILE: ${e.CIMD_FETCH_CA_FILE} holds no PEM certificate`);
    } catch (err) {
      problems.push(
        `CIMD_FETCH_CA_FILE: cannot read ${e.CIMD_FETCH_CA_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  const cacheBounds: CacheBounds = {
    minSeconds: e.CIMD_CACHE_MIN_SECONDS,
    maxSeconds: e.CIMD_CACHE_MAX_SECONDS,
    defaultSeconds: e.CIMD_CACHE_DEFAULT_SECONDS,
    refreshAheadRatio: e.CIMD_CACHE_REFRESH_AHEAD,
  };
  try {
    assertValidCacheBounds(cacheBounds);
  } catch (err) {
    problems.push(
      `CIMD_CACHE_MIN_SECONDS/CIMD_CACHE_DEFAULT_SECONDS/CIMD_CACHE_MAX_SECONDS: ${(err as Error).message}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...service,
    port: e.FETCHER_PORT,
    fetch: {
      maxBytes: e.CIMD_FETCH_MAX_BYTES,
      timeoutMs: e.CIMD_FETCH_TIMEOUT_MS,
      allowedPorts: ports,
      acceptTextPlain: e.CIMD_FETCH_ACCEPT_TEXT_PLAIN,
      resolve,
      allowCidrs: e.CIMD_FETCH_ALLOW_CIDRS,
      ...(extraCa !== undefined ? { extraCa } : {}),
    },
    cacheBounds,
    staleRetentionSeconds: e.CIMD_STALE_RETENTION_SECONDS,
    logoMaxBytes: e.CIMD_LOGO_MAX_BYTES,
    jwksMaxBytes: e.CIMD_FETCH_JWKS_MAX_BYTES,
    concurrency: e.CIMD_FETCH_CONCURRENCY,
    globalConcurrency: e.CIMD_FETCH_GLOBAL_CONCURRENCY,
    originRateLimit: { max: e.CIMD_ORIGIN_RATE_LIMIT, windowMs: e.CIMD_ORIGIN_RATE_WINDOW_MS },
    cooldownMaxSeconds: e.CIMD_FETCH_COOLDOWN_MAX_SECONDS,
    goneConfirmDelayMs: e.CIMD_GONE_CONFIRM_DELAY_MS,
    lockDurationMs: e.CIMD_FETCH_LOCK_DURATION_MS,
    stalledIntervalMs: e.CIMD_FETCH_STALLED_INTERVAL_MS,
  };
}

export const FETCHER_CONFIG = Symbol('FETCHER_CONFIG');

export const InjectFetcherConfig = (): ParameterDecorator => Inject(FETCHER_CONFIG);
