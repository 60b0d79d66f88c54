import { freePort } from '@cimd/testing';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { PrivateRedis, sleep } from './servers';

/**
 * Redis deployments of the test's own, made of PrivateRedis processes on loopback ports: a Redis
 * Cluster (primaries with replicas, `redis-cli --cluster create`) and a Sentinel set (a primary,
 * a replica, three sentinels). Each says how the apps reach it (`env`), gives an inspection
 * client that follows failovers (`inspect`), and can kill its primary and wait until a replica
 * has taken over. Every process is a PrivateRedis, cleaned up with the rest (stopAll).
 */
export interface RedisServers {
  /** What the gateway and the fetcher are given (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS…). */
  readonly env: Record<string, string>;
  /** A client for the test's own look-ups; it follows a failover. */
  inspect(): Redis | Cluster;
}

const run = promisify(execFile);

/** A one-line answer of `redis-cli -p <port> <args>`, or '' when the server does not answer. */
async function cli(port: number, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 });
    return stdout;
  } catch {
    return '';
  }
}

async function until(what: string, check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(100);
  }
}

interface ClusterNode {
  id: string;
  port: number;
  flags: string[];
  primaryId: string | undefined;
  slots: [number, number][];
}

/**
 * A Redis Cluster on loopback: `primaries` primaries with `replicas` replicas each, a short node
 * timeout (failover within a few seconds), and `cluster-require-full-coverage no`, as the
 * operations guide recommends, so a failing shard does not stop the others from answering.
 */
export class PrivateRedisCluster implements RedisServers {
  private constructor(
    readonly servers: PrivateRedis[],
    readonly nodeTimeoutMs: number,
  ) {}

  static async start(
    options: { primaries?: number; replicas?: number; nodeTimeoutMs?: number } = {},
  ): Promise<PrivateRedisCluster> {
    const primaries = options.primaries ?? 3;
    const count = primaries * (1 + (options.replicas ?? 1));
    const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
    const servers = await Promise.all(
      Array.from({ length: count }, async () => {
        const busPort = await freePort();
        return PrivateRedis.start({
          args: (dir) => [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `${dir}/nodes.conf`,
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            '--cluster-port',
            String(busPort),
            '--cluster-require-full-coverage',
            'no',
          ],
        });
      }),
    );
    const cluster = new PrivateRedisCluster(servers, nodeTimeoutMs);
    try {
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...servers.map((s) => `127.0.0.1:${s.port}`),
          '--cluster-replicas',
          String(options.replicas ?? 1),
          '--cluster-yes',
        ],
        { timeout: 60_000 },
      );
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`redis-cli --cluster create failed: ${err.stderr || err.stdout || err.message}`);
    }
    await cluster.waitHealthy(30_000);
    return cluster;
  }

  get env(): Record<string, string> {
    // Any two nodes are enough to find the rest; both apps are given all of them.
    return { REDIS_CLUSTER_NODES: this.servers.map((s) => `127.0.0.1:${s.port}`).join(',') };
  }

  inspect(): Cluster {
    const cluster = new Cluster(
      this.servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
      { redisOptions: { maxRetriesPerRequest: 3 }, retryDelayOnFailover: 200, maxRedirections: 50 },
    );
    cluster.on('error', () => undefined);
    return cluster;
  }

  /** CLUSTER NODES as a running node sees it. */
  async nodes(): Promise<ClusterNode[]> {
    for (const s of this.servers.filter((x) => x.running)) {
      const text = await cli(s.port, 'CLUSTER', 'NODES');
      if (!text.trim()) continue;
      return text
        .trim()
        .split('\n')
        .map((line) => {
          const [id, address, flags, primary, , , , , ...slots] = line.split(' ');
          return {
            id: id ?? '',
            port: Number((address ?? '').split('@')[0]?.split(':')[1]),
            flags: (flags ?? '').split(','),
            primaryId: primary === '-' ? undefined : primary,
            slots: slots
              .filter((r) => !r.startsWith('['))
              .map((r) => {
                const [from, to] = r.split('-').map(Number);
                return [from ?? 0, to ?? from ?? 0] as [number, number];
              }),
          };
        });
    }
    throw new Error('no cluster node answers');
  }

  /** The server that is the primary of `key`'s slot now. */
  async primaryOf(key: string): Promise<PrivateRedis> {
    const running = this.servers.find((s) => s.running);
    const slot = Number((await cli(running?.port ?? 0, 'CLUSTER', 'KEYSLOT', key)).trim());
    const node = (await this.nodes()).find(
      (n) => n.flags.includes('master') && n.slots.some(([a, b]) => slot >= a && slot <= b),
    );
    const server = this.servers.find((s) => s.port === node?.port);
    if (!server) throw new Error(`no primary for ${key} (slot ${slot})`);
    return server;
  }

  /**
   * Every slot served by a running primary, as every running node sees it (`cluster_state:ok`),
   * and every running replica in sync with its primary.
   */
  async healthy(): Promise<boolean> {
    for (const s of this.servers.filter((x) => x.running)) {
      if (!(await cli(s.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
    }
    const nodes = await this.nodes();
    const up = new Set(this.servers.filter((s) => s.running).map((s) => s.port));
    let covered = 0;
    for (const n of nodes.filter((x) => x.flags.includes('master') && !x.flags.includes('fail'))) {
      if (!up.has(n.port) && n.slots.length > 0) return false;
      for (const [a, b] of n.slots) covered += b - a + 1;
    }
    if (covered !== 16384) return false;
    for (const n of nodes.filter((x) => x.flags.includes('slave') && up.has(x.port))) {
      if (!(await cli(n.port, 'INFO', 'replication')).includes('master_link_status:up')) return false;
    }
    return true;
  }

  waitHealthy(limitMs: number): Promise<number> {
    return until('the cluster serving every slot', () => this.healthy(), limitMs);
  }

  /** SIGKILL `primary`; resolves when a replica serves its slots (ms from the kill). */
  async killPrimary(primary: PrivateRedis): Promise<number> {
    const killedAt = Date.now();
    await primary.stop('SIGKILL');
    await until(
      'a replica promoted',
      async () => {
        const nodes = await this.nodes();
        const dead = nodes.find((n) => n.port === primary.port);
        const promoted = nodes.some(
          (n) =>
            n.flags.includes('master') &&
            !n.flags.includes('fail') &&
            n.port !== primary.port &&
            n.slots.length > 0 &&
            this.servers.find((s) => s.port === n.port)?.running &&
            dead?.slots.length === 0,
        );
        return promoted && (await this.healthy());
      },
      10 * this.nodeTimeoutMs + 30_000,
    );
    return Date.now() - killedAt;
  }
}

/**
 * A primary managed by Sentinel on loopback: the primary, one replica and three sentinels
 * (quorum two), with a short down-after period so a failover takes a few seconds.
 */
export class PrivateRedisSentinels implements RedisServers {
  static readonly MASTER = 'cimd-rel';

  private constructor(
    readonly data: PrivateRedis[],
    readonly sentinels: PrivateRedis[],
  ) {}

  static async start(options: { downAfterMs?: number } = {}): Promise<PrivateRedisSentinels> {
    const primary = await PrivateRedis.start();
    const replica = await PrivateRedis.start({ args: () => ['--replicaof', '127.0.0.1', String(primary.port)] });
    const downAfter = options.downAfterMs ?? 1000;
    const config = [
      `sentinel monitor ${PrivateRedisSentinels.MASTER} 127.0.0.1 ${primary.port} 2`,
      `sentinel down-after-milliseconds ${PrivateRedisSentinels.MASTER} ${downAfter}`,
      `sentinel failover-timeout ${PrivateRedisSentinels.MASTER} ${Math.max(5000, downAfter * 5)}`,
      `sentinel parallel-syncs ${PrivateRedisSentinels.MASTER} 1`,
      '',
    ].join('\n');
    const sentinels = await Promise.all(
      [0, 1, 2].map(() => PrivateRedis.start({ config, args: () => ['--sentinel'] })),
    );
    const set = new PrivateRedisSentinels([primary, replica], sentinels);
    await until(
      'the replica in sync',
      async () => (await cli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'),
      30_000,
    );
    await until(
      'the sentinels seeing the replica and each other',
      async () => {
        for (const s of sentinels) {
          const info = await cli(s.port, 'SENTINEL', 'MASTER', PrivateRedisSentinels.MASTER);
          const fields = info.trim().split('\n');
          const value = (name: string) => Number(fields[fields.indexOf(name) + 1]);
          if (value('num-slaves') < 1 || value('num-other-sentinels') < 2) return false;
        }
        return true;
      },
      30_000,
    );
    return set;
  }

  get env(): Record<string, string> {
    return {
      REDIS_SENTINELS: this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      REDIS_SENTINEL_MASTER: PrivateRedisSentinels.MASTER,
    };
  }

  inspect(): Redis {
    const redis = new Redis({
      sentinels: this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      name: PrivateRedisSentinels.MASTER,
      maxRetriesPerRequest: 20,
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
    });
    redis.on('error', () => undefined);
    return redis;
  }

  /** The data server the sentinels name as primary now. */
  async primary(): Promise<PrivateRedis> {
    for (const s of this.sentinels.filter((x) => x.running)) {
      const answer = (await cli(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', PrivateRedisSentinels.MASTER))
        .trim()
        .split('\n');
      const server = this.data.find((d) => d.port === Number(answer[1]));
      if (server) return server;
    }
    throw new Error('no sentinel names a primary');
  }

  /** SIGKILL the primary; resolves when the sentinels have promoted the replica and it accepts writes (ms from the kill). */
  async killPrimary(): Promise<number> {
    const old = await this.primary();
    const killedAt = Date.now();
    await old.stop('SIGKILL');
    await until(
      'the replica promoted by the sentinels',
      async () => {
        const now = await this.primary().catch(() => old);
        return now !== old && (await cli(now.port, 'ROLE')).startsWith('master');
      },
      60_000,
    );
    return Date.now() - killedAt;
  }
}
