import { RedisKeys } from '@cimd/contracts';
import { createTestPki, freePort, TestOrigin, waitFor } from '@cimd/testing';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { dropDatabase } from './databases';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway-config';
import { createGatewayApp } from '../../apps/gateway/src/main';

/**
 * A whole system for one test file: the gateway (in this process, on a real port), the
 * fetcher (the built one, as its own process), a local HTTPS "client host" with a CA made
 * here, the real Redis (this file's own key prefix) and PostgreSQL (this file's own
 * database). Hosts in `hosts` resolve to the origin through the fetcher's test overrides.
 */
export interface GatewayStack {
  origin: TestOrigin;
  url: string;
  adminToken: string;
  keys: RedisKeys;
  redis: Redis;
  databaseUrl: string;
  fetcherPort: number;
  /** The gateway's gRPC port (cimd.v1.Gateway on 127.0.0.1). */
  grpcPort: number;
  app: NestFastifyApplication;
  /** `https://<host>:<origin port><path>` */
  clientId(path: string, host?: string): string;
  request(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
    // Response bodies are arbitrary JSON that the tests inspect with assertions.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

const ROOT = join(__dirname, '..', '..');
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export async function startGatewayStack(
  name: string,
  options: {
    hosts?: string[];
    /** More names the fetcher resolves (on the origin's port), to any address: `{ 'metadata.test': '169.254.169.254' }`. */
    resolve?: Record<string, string>;
    gatewayEnv?: Record<string, string>;
    fetcherEnv?: Record<string, string>;
  } = {},
): Promise<GatewayStack> {
  const fetcherMain = join(ROOT, 'dist', 'apps', 'fetcher', 'src', 'main.js');
  if (!existsSync(fetcherMain)) throw new Error('dist/ is missing: run "npm run build" (npm test does it first)');
  const hosts = options.hosts ?? ['client.test', 'other.test'];
  const pki = await createTestPki();
  const origin = new TestOrigin(await pki.issue(hosts));
  const originPort = await origin.listen('127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), `cimd-${name}-`));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pki.caPem);

  const prefix = `test-${name}-${process.pid}`;
  const keys = new RedisKeys(prefix);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cimd');
  base.pathname = `/cimd_test_${name.replace(/-/g, '_')}_${process.pid}`;
  const databaseUrl = base.toString();
  await dropDatabase(databaseUrl);

  const fetcherPort = await freePort();
  const fetcher: ChildProcess = spawn(process.execPath, [fetcherMain], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      REDIS_URL: redisUrl,
      CIMD_REDIS_PREFIX: prefix,
      HOST: '127.0.0.1',
      FETCHER_PORT: String(fetcherPort),
      CIMD_FETCH_ALLOWED_PORTS: String(originPort),
      CIMD_FETCH_RESOLVE: [
        ...hosts.map((h) => `${h}:${originPort}:127.0.0.1`),
        ...Object.entries(options.resolve ?? {}).map(([h, address]) => `${h}:${originPort}:${address}`),
      ].join(';'),
      CIMD_FETCH_CA_FILE: caFile,
      CIMD_FETCH_ALLOW_CIDRS: '127.0.0.1/32',
      CIMD_FETCH_TIMEOUT_MS: '2000',
      CIMD_ORIGIN_RATE_LIMIT: '10000',
      ...options.fetcherEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });

  const grpcPort = await freePort();
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    CIMD_REDIS_PREFIX: prefix,
    CIMD_ADMIN_TOKEN: ADMIN_TOKEN,
    HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    // Tests rewrite cache entries in Redis behind the gateway's back and check at once: no
    // in-process copy unless a test asks for one (test/gateway/local-cache.test.ts does).
    CIMD_LOCAL_CACHE_MS: '0',
    // Webhooks may name 443 and the origin's port (the one the fetcher may reach here).
    CIMD_WEBHOOK_ALLOWED_PORTS: `443,${originPort}`,
    ...options.gatewayEnv,
  });
  const { ensureDatabase } = await import('../../apps/gateway/src/database/ensure-database');
  await ensureDatabase(databaseUrl);
  const app = await createGatewayApp(config);
  await app.listen(0, '127.0.0.1');
  await app.startAllMicroservices();
  const gatewayPort = (app.getHttpServer().address() as AddressInfo).port;
  const url = `http://127.0.0.1:${gatewayPort}`;
  const redis = new Redis(redisUrl);

  await waitFor(
    async () => {
      try {
        return (await fetch(`http://127.0.0.1:${fetcherPort}/readyz`)).status === 200;
      } catch {
        return false;
      }
    },
    'the fetcher to be ready',
    30_000,
  );

  const stack: GatewayStack = {
    origin,
    url,
    adminToken: ADMIN_TOKEN,
    keys,
    redis,
    databaseUrl,
    fetcherPort,
    grpcPort: config.grpcPort,
    app,
    clientId: (path, host = hosts[0] ?? 'client.test') => `https://${host}:${originPort}${path}`,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (opts.raw !== undefined) body = opts.raw;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async stop() {
      await app.close();
      fetcher.kill('SIGTERM');
      await new Promise((resolve) => (fetcher.exitCode !== null ? resolve(undefined) : fetcher.once('exit', resolve)));
      const stale = await redis.keys(`${prefix}:*`);
      if (stale.length > 0) await redis.del(...stale);
      redis.disconnect();
      await origin.close();
      await dropDatabase(databaseUrl);
    },
  };
  return stack;
}

/** A valid public client document for `clientId`. */
export function documentFor(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const host = new URL(clientId).host;
  return {
    client_id: clientId,
    client_name: 'Stack Test Client',
    redirect_uris: [`https://${host}/callback`, 'http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

/**
 * A second gateway in this process on the stack's database, with a key prefix of its own and no
 * fetcher serving its queue (for lifecycle tests). `dispose` closes it unless the test already
 * did, and removes its Redis keys.
 */
export async function startSoloGateway(
  stack: GatewayStack,
  name: string,
  authorizeWaitMs: number,
): Promise<{ app: NestFastifyApplication; grpcPort: number; dispose(closed: boolean): Promise<void> }> {
  const prefix = `test-${name}-solo-${process.pid}`;
  const grpcPort = await freePort();
  const app = await createGatewayApp(
    loadGatewayConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      DATABASE_URL: stack.databaseUrl,
      CIMD_REDIS_PREFIX: prefix,
      CIMD_ADMIN_TOKEN: ADMIN_TOKEN,
      CIMD_AUTHORIZE_WAIT_MS: String(authorizeWaitMs),
      HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
    }),
  );
  return {
    app,
    grpcPort,
    async dispose(closed) {
      if (!closed) await app.close();
      const stale = await stack.redis.keys(`${prefix}:*`);
      if (stale.length > 0) await stack.redis.del(...stale);
    },
  };
}
