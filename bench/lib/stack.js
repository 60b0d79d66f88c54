'use strict';
/**
 * The system under test, started the way it runs in production (two processes sharing Redis,
 * the gateway owning PostgreSQL), plus what the scenarios compare it with:
 *
 * - the gateway (dist, NODE_ENV=production, LOG_LEVEL=info, migrations run beforehand as
 *   `npm run migrate` would) on its own database and Redis prefix;
 * - one fetcher process (dist), pointed at a local HTTPS origin through its test overrides;
 * - the baseline server (bench/baseline/server.js): node:http + ioredis, the same libraries,
 *   and a bare @grpc/grpc-js listener for the gRPC authorize check;
 * - the local origin (TestOrigin, in this process, so that requests to it can be counted),
 *   with a certificate from a CA made now for a set of bench host names.
 *
 * Everything it creates is removed by stop(): processes, the database, the Redis keys.
 */
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const Redis = require('ioredis');
const { Client, escapeIdentifier } = require('pg');
const { contracts, testing, DIST, FETCHER_MAIN, GATEWAY_MAIN, MIGRATE_MAIN } = require('./dist');

const BASELINE_MAIN = path.join(__dirname, '..', 'baseline', 'server.js');
/** Host names served by the local origin; h0…h15 spread clients so that no per-origin limit binds. */
const SPREAD_HOSTS = Array.from({ length: 16 }, (_, i) => `h${i}.bench.test`);
const HOSTS = [...SPREAD_HOSTS, 'miss.bench.test', 'herd.bench.test', 'revoke.bench.test'];
const TENANT = 'bench';
/** The bench tenant's authorization server, for client authentication (assertions' audience). */
const AUTHORIZATION_SERVER = { issuer: 'https://as.bench.test', token_endpoint: 'https://as.bench.test/token' };

const { freePort } = testing;

async function waitReady(url, child, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${url} did not become ready within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

class BenchStack {
  constructor(options) {
    this.options = options;
    this.children = [];
    this.prefix = `bench-${process.pid}`;
    this.keys = new contracts.RedisKeys(this.prefix);
    this.redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    const db = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/cimd');
    db.pathname = `/cimd_bench_${process.pid}`;
    this.databaseUrl = db.toString();
    this.adminToken = randomBytes(24).toString('base64url');
    this.tenant = TENANT;
    this.authorizationServer = AUTHORIZATION_SERVER;
    this.hosts = HOSTS;
    this.spreadHosts = SPREAD_HOSTS;
    this.stopped = false;
  }

  /** The settings the fetcher runs with, reported with the results. */
  fetcherSettings() {
    return {
      CIMD_FETCH_CONCURRENCY: '16',
      CIMD_FETCH_GLOBAL_CONCURRENCY: '64',
      // 16 host names share the throughput jobs; this many per host per window never binds.
      CIMD_ORIGIN_RATE_LIMIT: '100000',
      CIMD_ORIGIN_RATE_WINDOW_MS: '10000',
      CIMD_GONE_CONFIRM_DELAY_MS: '200',
      CIMD_FETCH_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'info',
      ...this.options.fetcherEnv,
    };
  }

  async start() {
    const { outDir, log } = this.options;
    this.logDir = path.join(outDir, 'logs');
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
    if (this.options.profile) {
      this.profileDir = path.join(outDir, 'profiles');
      rmSync(this.profileDir, { recursive: true, force: true });
      mkdirSync(this.profileDir, { recursive: true });
    }

    const pki = await testing.createTestPki('cimd-gateway bench CA');
    this.origin = new testing.TestOrigin(await pki.issue(HOSTS));
    this.originPort = await this.origin.listen('127.0.0.1');
    // TLS handshakes the origin completed, and how many resumed a session (fetcher_throughput).
    this.tls = { handshakes: 0, resumed: 0 };
    this.origin.server.on('secureConnection', (socket) => {
      this.tls.handshakes++;
      if (socket.isSessionReused()) this.tls.resumed++;
    });
    this.tmp = mkdtempSync(path.join(tmpdir(), 'cimd-bench-'));
    this.caFile = path.join(this.tmp, 'ca.pem');
    writeFileSync(this.caFile, pki.caPem);
    this.resolveSpec = HOSTS.map((h) => `${h}:${this.originPort}:127.0.0.1`).join(';');

    this.redis = new Redis(this.redisUrl);
    await this.dropDatabase();
    log('migrating the bench database');
    await this.run('migrate', MIGRATE_MAIN, { DATABASE_URL: this.databaseUrl, NODE_ENV: 'development' });
    this.pg = new Client({ connectionString: this.databaseUrl });
    await this.pg.connect();

    const [gatewayPort, grpcPort, fetcherPort, baselinePort, baselineGrpcPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    this.fetcherPort = fetcherPort;
    this.fetcher = this.spawn('fetcher', FETCHER_MAIN, {
      NODE_ENV: 'test', // the test overrides (resolve, CA, allowed CIDRs) are refused in production
      HOST: '127.0.0.1',
      FETCHER_PORT: String(fetcherPort),
      CIMD_FETCH_ALLOWED_PORTS: String(this.originPort),
      CIMD_FETCH_RESOLVE: this.resolveSpec,
      CIMD_FETCH_CA_FILE: this.caFile,
      CIMD_FETCH_ALLOW_CIDRS: '127.0.0.1/32',
      ...this.fetcherSettings(),
    });
    this.gateway = this.spawn('gateway', GATEWAY_MAIN, {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(gatewayPort),
      GRPC_PORT: String(grpcPort),
      DATABASE_URL: this.databaseUrl,
      CIMD_ADMIN_TOKEN: this.adminToken,
      ...this.options.gatewayEnv,
    });
    this.url = `http://127.0.0.1:${gatewayPort}`;
    this.grpcAddress = `127.0.0.1:${grpcPort}`;
    log('starting the gateway and the fetcher');
    await Promise.all([
      waitReady(`${this.url}/readyz`, this.gateway),
      waitReady(`http://127.0.0.1:${fetcherPort}/readyz`, this.fetcher),
    ]);

    await this.admin('POST', '/v1/tenants', { id: TENANT, policy: AUTHORIZATION_SERVER });
    this.apiKey = (await this.admin('POST', `/v1/tenants/${TENANT}/keys`)).key;

    this.baseline = this.spawn('baseline', BASELINE_MAIN, {
      PORT: String(baselinePort),
      GRPC_PORT: String(baselineGrpcPort),
      REDIS_URL: this.redisUrl,
      CIMD_REDIS_PREFIX: this.prefix,
      BENCH_TOKEN: this.apiKey,
      BENCH_ISSUER: AUTHORIZATION_SERVER.issuer,
      BENCH_TOKEN_ENDPOINT: AUTHORIZATION_SERVER.token_endpoint,
      FETCH_ALLOWED_PORTS: String(this.originPort),
      FETCH_RESOLVE: this.resolveSpec,
      FETCH_CA_FILE: this.caFile,
      FETCH_ALLOW_CIDRS: '127.0.0.1/32',
      FETCH_TIMEOUT_MS: this.fetcherSettings().CIMD_FETCH_TIMEOUT_MS,
    });
    this.baselineUrl = `http://127.0.0.1:${baselinePort}`;
    this.baselineGrpcAddress = `127.0.0.1:${baselineGrpcPort}`;
    await waitReady(`${this.baselineUrl}/healthz`, this.baseline);
    this.redisPid = Number(/process_id:(\d+)/.exec(await this.redis.info('server'))?.[1]) || undefined;
    return this;
  }

  /** `https://<host>:<origin port><path>` */
  clientId(p, host = SPREAD_HOSTS[0]) {
    return `https://${host}:${this.originPort}${p}`;
  }

  async admin(method, p, body) {
    const res = await fetch(`${this.url}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${p} → ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  /** Child processes write their logs to <out>/logs/<name>.log. */
  spawn(name, entry, env) {
    const fd = openSync(path.join(this.logDir, `${name}.log`), 'a');
    const nodeArgs = [
      ...(this.profileDir
        ? ['--cpu-prof', '--cpu-prof-dir', this.profileDir, '--cpu-prof-name', `${name}.cpuprofile`]
        : []),
      ...(this.options.nodeArgs?.[name] ?? []),
    ];
    const child = spawn(process.execPath, [...nodeArgs, entry], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: this.redisUrl,
        CIMD_REDIS_PREFIX: this.prefix,
        // The baseline loads the same build as the processes it is compared with (bench/lib/dist.js).
        ...(process.env.CIMD_BENCH_DIST ? { CIMD_BENCH_DIST: DIST } : {}),
        ...env,
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.name = name;
    this.children.push(child);
    return child;
  }

  /** Run a process to its end (migrations). */
  async run(name, entry, env) {
    const child = this.spawn(name, entry, env);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`${name} exited with ${code} (see ${this.logDir}/${name}.log)`);
  }

  /** The gateway's Prometheus samples named `name`: { '{labels}': value }. */
  async gatewayMetrics(name) {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const samples = {};
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([^{\s]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (m && m[1] === name) samples[m[2] ?? ''] = Number(m[3]);
    }
    return samples;
  }

  /** Wait until the gateway's event consumer has acted on every event on the stream. */
  async eventsSettled(ms = 120_000) {
    const end = Date.now() + ms;
    for (;;) {
      const groups = await this.redis.xinfo('GROUPS', this.keys.events).catch(() => []);
      const group = groups.map(pairs).find((g) => g.name === 'gateway');
      if (group && Number(group.pending) === 0 && Number(group.lag ?? 0) === 0) return;
      if (Date.now() > end) throw new Error('the gateway did not consume the event stream in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  pids() {
    return {
      gateway: this.gateway?.pid,
      fetcher: this.fetcher?.pid,
      baseline: this.baseline?.pid,
      harness: process.pid,
      redis: this.redisPid,
    };
  }

  /** Remove everything this run created; safe to call twice and after a failed start. */
  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    const problems = [];
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    await this.origin?.close().catch((e) => problems.push(`origin: ${e.message}`));
    await this.pg?.end().catch(() => undefined);
    try {
      await deleteKeys(this.redis, `${this.prefix}:*`);
    } catch (e) {
      problems.push(`redis keys: ${e.message}`);
    }
    this.redis?.disconnect();
    await this.dropDatabase().catch((e) => problems.push(`database: ${e.message}`));
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`cleanup: ${problems.join('; ')}`);
  }

  async dropDatabase() {
    const target = new URL(this.databaseUrl);
    const name = decodeURIComponent(target.pathname.slice(1));
    target.pathname = '/postgres';
    const admin = new Client({ connectionString: target.toString() });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

/** SCAN + UNLINK: never KEYS on a shared Redis. */
async function deleteKeys(redis, pattern) {
  if (!redis) return 0;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

/** Redis replies as [k, v, k, v, …] → object. */
function pairs(list) {
  const o = {};
  for (let i = 0; i + 1 < list.length; i += 2) o[list[i]] = list[i + 1];
  return o;
}

module.exports = { BenchStack, deleteKeys, freePort, pairs };
