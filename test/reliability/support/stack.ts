import { RedisKeys } from '@cimd/contracts';
import { createTestPki, freePort, TestPki } from '@cimd/testing';
import Redis from 'ioredis';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { dropDatabase } from '../../support/databases';
import { Origin } from './origin';
import type { RedisServers } from './redis-topologies';
import {
  AppProcess,
  ownCleanup,
  ownedTempDir,
  PrivatePostgres,
  PrivateRedis,
  sleep,
  stopAll,
  sweepOrphans,
} from './servers';

/**
 * A whole system made of processes, for one fault test file: a redis-server of its own
 * (persistent when asked; or a Redis Cluster or Sentinel set of its own), PostgreSQL (a cluster of its own when asked, otherwise a database of
 * its own on the shared server), the built gateway and fetcher as processes (restartable,
 * killable, their memory readable), and an HTTPS origin whose hosts the fetcher resolves to
 * 127.0.0.1 through its test overrides.
 *
 * `CIMD_RELIABILITY_DIST` points at another build than `<repo>/dist` (a copy, so that a
 * concurrent `npm run build` cannot pull the files from under running tests).
 */
export const ADMIN_TOKEN = 'reliability-admin-token-0123456789';
const ROOT = join(__dirname, '..', '..', '..');
const DIST = process.env.CIMD_RELIABILITY_DIST ?? join(ROOT, 'dist');

export interface StackOptions {
  /** Host names served by `origin` (all on its port). */
  hosts?: string[];
  /** Redis with the append-only file, so stopping and starting it keeps the data. */
  persistentRedis?: boolean;
  /** Another Redis than one redis-server: a cluster or a Sentinel set (support/redis-topologies). */
  redisServers?: () => Promise<RedisServers>;
  /** Gateway processes (default 1), all alike; `gateway` is the first. */
  gateways?: number;
  /** A PostgreSQL cluster of the stack's own (to stop it); otherwise a database on the shared server. */
  privatePostgres?: boolean;
  gatewayEnv?: Record<string, string>;
  fetcherEnv?: Record<string, string>;
  /** More `host:port` targets the fetcher may reach on 127.0.0.1 (other test servers). */
  targets?: { host: string; port: number }[];
  /** Certificate names beyond `hosts` (e.g. hosts of other servers sharing the certificate). */
  certNames?: string[];
}

export interface ApiResponse {
  status: number;
  // Response bodies are arbitrary JSON that the tests inspect.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  ms: number;
}

export class ProcessStack {
  readonly dir: string;
  readonly keys: RedisKeys;
  readonly prefix: string;
  pki!: TestPki;
  origin!: Origin;
  /** The stack's redis-server (not with `redisServers`). */
  redis!: PrivateRedis;
  /** The stack's cluster or Sentinel set (with `redisServers`). */
  redisServers?: RedisServers;
  postgres?: PrivatePostgres;
  databaseUrl!: string;
  readonly gateways: { app: AppProcess; port: number; grpcPort: number }[] = [];
  readonly fetchers: AppProcess[] = [];
  /** An inspection connection to the stack's Redis (reconnects after a restart, follows a failover). */
  inspect!: Redis;
  private caFile!: string;
  private hosts: string[];
  private fetcherEnvBase: Record<string, string> = {};

  constructor(
    readonly name: string,
    private readonly options: StackOptions = {},
  ) {
    this.dir = ownedTempDir(`stack-${name}`);
    this.prefix = `rel-${name}`;
    this.keys = new RedisKeys(this.prefix);
    this.hosts = options.hosts ?? ['client.test'];
  }

  static async start(name: string, options: StackOptions = {}): Promise<ProcessStack> {
    sweepOrphans();
    for (const app of ['gateway', 'fetcher']) {
      if (!existsSync(join(DIST, 'apps', app, 'src', 'main.js')))
        throw new Error(`${DIST} has no ${app}: run "npm run build" (npm run test:reliability does it first)`);
    }
    const stack = new ProcessStack(name, options);
    try {
      await stack.boot();
    } catch (e) {
      // The caller never gets the stack to stop: what did start must not outlive the file (a
      // server left listening keeps jest from ever exiting).
      await stopAll();
      throw e;
    }
    return stack;
  }

  private async boot(): Promise<void> {
    const o = this.options;
    this.pki = await createTestPki(`cimd reliability ${this.name} CA`);
    this.caFile = join(this.dir, 'ca.pem');
    writeFileSync(this.caFile, this.pki.caPem);
    this.origin = new Origin(await this.pki.issue([...this.hosts, ...(o.certNames ?? [])]));
    const originPort = await this.origin.listen();
    ownCleanup(() => this.origin.close());

    let redisEnv: Record<string, string>;
    if (o.redisServers) {
      this.redisServers = await o.redisServers();
      redisEnv = this.redisServers.env;
      // A cluster client answers the same commands on single keys; what a test reads is one key at a time.
      this.inspect = this.redisServers.inspect() as Redis;
    } else {
      this.redis = await PrivateRedis.start({ persistent: o.persistentRedis ?? false });
      redisEnv = { REDIS_URL: this.redis.url };
      this.inspect = new Redis(this.redis.url, { maxRetriesPerRequest: 3, retryStrategy: () => 100 });
    }
    this.inspect.on('error', () => undefined);
    ownCleanup(() => Promise.resolve(this.inspect.disconnect()));

    const database = `cimd_rel_${this.name.replace(/-/g, '_')}_${process.pid}`;
    if (o.privatePostgres) {
      this.postgres = await PrivatePostgres.start();
      this.databaseUrl = this.postgres.url(database);
    } else {
      const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cimd');
      base.pathname = `/${database}`;
      this.databaseUrl = base.toString();
      await dropDatabase(this.databaseUrl);
      ownCleanup(() => dropDatabase(this.databaseUrl));
    }

    const targets = [...this.hosts.map((host) => ({ host, port: originPort })), ...(o.targets ?? [])];
    const ports = [...new Set(targets.map((t) => t.port))];
    this.fetcherEnvBase = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      ...redisEnv,
      CIMD_REDIS_PREFIX: this.prefix,
      HOST: '127.0.0.1',
      CIMD_FETCH_ALLOWED_PORTS: ports.join(','),
      CIMD_FETCH_RESOLVE: targets.map((t) => `${t.host}:${t.port}:127.0.0.1`).join(';'),
      CIMD_FETCH_CA_FILE: this.caFile,
      CIMD_FETCH_ALLOW_CIDRS: '127.0.0.1/32',
      CIMD_FETCH_TIMEOUT_MS: '2000',
      CIMD_ORIGIN_RATE_LIMIT: '100000',
      ...o.fetcherEnv,
    };

    for (let i = 0; i < (o.gateways ?? 1); i++) {
      const gateway = { port: await freePort(), grpcPort: await freePort() };
      const app = new AppProcess(
        i === 0 ? 'gateway' : `gateway-${i + 1}`,
        join(DIST, 'apps', 'gateway', 'src', 'main.js'),
        {
          NODE_ENV: 'test',
          LOG_LEVEL: 'info',
          ...redisEnv,
          DATABASE_URL: this.databaseUrl,
          CIMD_REDIS_PREFIX: this.prefix,
          CIMD_ADMIN_TOKEN: ADMIN_TOKEN,
          HOST: '127.0.0.1',
          PORT: String(gateway.port),
          GRPC_PORT: String(gateway.grpcPort),
          // Webhooks may name 443 and the ports the fetcher may reach here.
          CIMD_WEBHOOK_ALLOWED_PORTS: [443, ...ports].join(','),
          ...o.gatewayEnv,
        },
        this.dir,
      );
      this.gateways.push({ app, ...gateway });
    }
    // The first gateway runs the migrations (CIMD_MIGRATE=auto in tests) before the others start.
    await Promise.all([this.startGateway(0), this.startFetcher()]);
    await Promise.all(this.gateways.slice(1).map((_, i) => this.startGateway(i + 1)));
  }

  /** The first gateway. */
  get gateway(): AppProcess {
    return this.gateways[0]!.app;
  }

  get gatewayPort(): number {
    return this.gateways[0]!.port;
  }

  get grpcPort(): number {
    return this.gateways[0]!.grpcPort;
  }

  get url(): string {
    return this.urlOf(0);
  }

  /** The HTTP base URL of gateway `i`. */
  urlOf(i: number): string {
    return `http://127.0.0.1:${this.gateways[i]?.port ?? 0}`;
  }

  /** `https://<host>:<origin port><path>` */
  clientId(path: string, host = this.hosts[0] ?? 'client.test'): string {
    return `https://${host}:${this.origin.port}${path}`;
  }

  /**
   * Start (or restart) gateway `i` and wait until it is ready. Should another process have taken
   * one of its ports in the meantime, it starts again on new ones.
   */
  async startGateway(i = 0): Promise<void> {
    const gateway = this.gateways[i];
    if (!gateway) throw new Error(`the stack has no gateway ${i}`);
    await this.startOnFreePorts(
      gateway.app,
      async () => {
        gateway.port = await freePort();
        gateway.grpcPort = await freePort();
        return { PORT: String(gateway.port), GRPC_PORT: String(gateway.grpcPort) };
      },
      () => `${this.urlOf(i)}/readyz`,
    );
  }

  /** Start one more fetcher process and wait until it is ready. */
  async startFetcher(env: Record<string, string> = {}): Promise<AppProcess> {
    const n = this.fetchers.length + 1;
    const fetcher: AppProcess & { port?: number } = new AppProcess(
      `fetcher-${n}`,
      join(DIST, 'apps', 'fetcher', 'src', 'main.js'),
      { ...this.fetcherEnvBase, ...env },
      this.dir,
    );
    this.fetchers.push(fetcher);
    const newPort = async () => {
      fetcher.port = await freePort();
      return { FETCHER_PORT: String(fetcher.port) };
    };
    fetcher.setEnv(await newPort());
    await this.startOnFreePorts(fetcher, newPort, () => `http://127.0.0.1:${fetcher.port}/readyz`);
    return fetcher;
  }

  private async startOnFreePorts(
    app: AppProcess,
    newPorts: () => Promise<Record<string, string>>,
    readyUrl: () => string,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      app.start();
      try {
        await this.waitReady(app, readyUrl());
        return;
      } catch (e) {
        if (attempt === 3 || !app.portTaken()) throw e;
        app.setEnv(await newPorts());
      }
    }
  }

  /** The fetcher's own Prometheus text (its health port). */
  async fetcherMetrics(fetcher: AppProcess): Promise<string> {
    const port = (fetcher as AppProcess & { port?: number }).port;
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  }

  private async waitReady(app: AppProcess, url: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200) return;
      } catch {
        // not up yet
      }
      // The reason first: a CI log may show only the start and end of a long message.
      if (!app.running)
        throw new Error(`${app.name} exited at start (${app.exitStatus}): ${app.lastLine()}\n${app.tail()}`);
      if (Date.now() > deadline) throw new Error(`${app.name} not ready within 30 s:\n${app.tail()}`);
      await sleep(50);
    }
  }

  /** One HTTP call to the gateway; a connection error or timeout becomes status 0 with the reason. */
  async api(
    method: string,
    path: string,
    options: { body?: unknown; token?: string | null; timeoutMs?: number; gateway?: number } = {},
  ): Promise<ApiResponse> {
    const started = performance.now();
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(`${this.urlOf(options.gateway ?? 0)}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, body, ms: performance.now() - started };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      const reason = err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.message);
      return { status: 0, body: { error: reason }, ms: performance.now() - started };
    }
  }

  /** A call that must succeed with `status`; throws with the body otherwise. */
  async expect(status: number, method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const r = await this.api(method, path, body === undefined ? {} : { body });
    if (r.status !== status)
      throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  }

  /** An authorize check, on gateway `gateway` (the first by default). */
  check(tenant: string, clientId: string, token?: string, gateway = 0): Promise<ApiResponse> {
    return this.api('POST', `/v1/tenants/${tenant}/authorize/check`, {
      body: {
        client_id: clientId,
        redirect_uri: `https://${new URL(clientId).host}/callback`,
        code_challenge_method: 'S256',
      },
      ...(token !== undefined ? { token } : {}),
      gateway,
    });
  }

  /** Run `work` with a fresh connection to the stack's database. */
  async sql<T>(work: (db: Client) => Promise<T>): Promise<T> {
    const db = new Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5000 });
    await db.connect();
    try {
      return await work(db);
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  async query<R extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
    return this.sql(async (db) => (await db.query<R>(text, values)).rows);
  }

  /** The logs of every process, for a failing test. */
  logs(lines = 30): string {
    return [...this.gateways.map((g) => g.app), ...this.fetchers]
      .map((p) => `--- ${p.name}\n${p.tail(lines)}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    await stopAll();
  }
}
