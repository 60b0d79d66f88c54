'use strict';
/**
 * What the demos (`npm run demo`, `npm run demo:mcp`) share: the built services as child
 * processes on free ports, a database and a Redis prefix of their own, and the cleanup that
 * leaves nothing behind.
 */
const { spawn } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const Redis = require('ioredis');

const root = path.join(__dirname, '..');

/** A port below the kernel's ephemeral range, never handed out twice (@cimd/testing). */
function freePort() {
  return require(path.join(root, 'dist/libs/testing/src')).freePort();
}

async function waitReady(url) {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become ready`);
}

/**
 * The demo's client host: a local HTTPS server for `hosts` (its CA made now) and the fetcher
 * variables that let the fetcher reach it through its test overrides.
 */
async function startDemoClientHost(name, hosts, caName) {
  const { startClientHost, clientHostFetcherEnv } = require(path.join(root, 'dist/libs/testing/src'));
  const host = await startClientHost(hosts, caName);
  const fetcherEnv = clientHostFetcherEnv(host, mkdtempSync(path.join(tmpdir(), `cimd-${name}-`)));
  return { origin: host.origin, originPort: host.port, fetcherEnv };
}

/** JSON calls to the gateway's API at `api` with a bearer token; an answer of 400 or more is thrown with its body. */
function gatewayApi(api, defaultToken) {
  return async (method, p, body, token = defaultToken) => {
    const res = await fetch(`${api}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => undefined);
    if (res.status >= 400) throw new Error(`${method} ${p} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** A demo's own database and Redis prefix, the processes it starts, and its cleanup. */
function demoSystem(name) {
  const prefix = `${name}-${process.pid}`;
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const databaseUrl = (() => {
    const u = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/cimd');
    u.pathname = `/cimd_${name.replace(/-/g, '_')}_${process.pid}`;
    return u.toString();
  })();
  const children = [];
  return {
    prefix,
    redisUrl,
    databaseUrl,
    /** A built service (a path under the repository) as a child process. */
    start(entry, env) {
      const child = spawn(process.execPath, [path.join(root, entry)], {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'development',
          LOG_LEVEL: 'warn',
          REDIS_URL: redisUrl,
          CIMD_REDIS_PREFIX: prefix,
          ...env,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      children.push(child);
      return child;
    },
    /**
     * The fetcher and the gateway on free ports of 127.0.0.1, with `fetcherEnv` and `gatewayEnv`
     * over the demo's settings; resolves once both are ready, with the gateway's API URL and
     * gRPC port.
     */
    async startServices({ adminToken, fetcherEnv = {}, gatewayEnv = {} }) {
      const [port, fetcherPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
      const api = `http://127.0.0.1:${port}`;
      this.start('dist/apps/fetcher/src/main.js', {
        HOST: '127.0.0.1',
        FETCHER_PORT: String(fetcherPort),
        ...fetcherEnv,
      });
      this.start('dist/apps/gateway/src/main.js', {
        HOST: '127.0.0.1',
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
        DATABASE_URL: databaseUrl,
        CIMD_ADMIN_TOKEN: adminToken,
        CIMD_PUBLIC_URL: api,
        ...gatewayEnv,
      });
      await Promise.all([waitReady(`${api}/readyz`), waitReady(`http://127.0.0.1:${fetcherPort}/readyz`)]);
      return { api, grpcPort };
    },
    async cleanup() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      const u = new URL(databaseUrl);
      const db = u.pathname.slice(1);
      u.pathname = '/postgres';
      const pg = new Client({ connectionString: u.toString() });
      await pg.connect();
      await pg.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      await pg.end();
    },
  };
}

/** Run `main`, then clean up whatever happened; a failure is printed and sets the exit code. */
function runDemo(name, system, main) {
  main()
    .then(
      () => system.cleanup(),
      async (e) => {
        process.stderr.write(`${name} failed: ${e.stack || e.message}\n`);
        await system.cleanup();
        process.exitCode = 1;
      },
    )
    .catch((e) => {
      process.stderr.write(`${name} cleanup failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}

module.exports = { root, freePort, startDemoClientHost, gatewayApi, demoSystem, runDemo };
