import type { RedisTopology } from '@cimd/runtime';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';

/** A connection to the deployment's Redis: one server or Sentinel-managed primary (Redis), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where a deployment's Redis is, and the prefix that keeps its keys apart from others'. */
export interface RedisSettings {
  topology: RedisTopology;
  prefix: string;
}

export const REDIS_SETTINGS = Symbol('REDIS_SETTINGS');

/**
 * How a connection behaves while Redis (or the node holding a key) is down:
 * - `commands`: fails fast (an authorize check answers "pending" rather than hang);
 * - `waiting`: waits for Redis (a blocking stream read, a subscriber, a worker).
 */
export type ConnectionRole = 'commands' | 'waiting';

/**
 * Options of a connection to one server in `role`. `disconnectTimeout`: disconnecting while
 * Redis is unreachable arms a timer that nothing clears (ioredis#1247), which would hold the
 * process for the 2 s default after shutdown.
 */
export function redisOptions(url: string, role: ConnectionRole): RedisOptions {
  const parsed = new Redis(url, { lazyConnect: true });
  const base: RedisOptions = { ...parsed.options, lazyConnect: true, disconnectTimeout: 200 };
  parsed.disconnect();
  return { ...base, ...roleOptions(role) };
}

function roleOptions(role: ConnectionRole): RedisOptions {
  return role === 'commands'
    ? { maxRetriesPerRequest: 1, enableOfflineQueue: false }
    : { maxRetriesPerRequest: null, enableOfflineQueue: true };
}

/** Commands that come back READONLY were sent to a primary that has since become a replica: find the primary again. */
const reconnectOnReadonly = (err: Error): boolean => err.message.startsWith('READONLY');

/**
 * A new, unconnected client for `topology` in `role`.
 *
 * Cluster: `commands` gives up after six retries (MOVED, or a node's connection closed while its
 * replica is being promoted: 100 ms apart, each after a refresh of the slot map), `waiting` keeps
 * ioredis's 16; every node connection takes the role's per-request retries (BullMQ requires
 * `null` on a worker's).
 */
export function createRedisClient(topology: RedisTopology, role: ConnectionRole): RedisClient {
  const common: RedisOptions = { lazyConnect: true, disconnectTimeout: 200, ...roleOptions(role) };
  switch (topology.mode) {
    case 'single':
      return new Redis(topology.url, {
        ...common,
        ...(topology.username !== undefined ? { username: topology.username } : {}),
        ...(topology.password !== undefined ? { password: topology.password } : {}),
      });
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: topology.sentinels,
        name: topology.master,
        role: 'master',
        ...auth(topology.auth),
        ...(topology.auth.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        ...(topology.sentinelPassword !== undefined ? { sentinelPassword: topology.sentinelPassword } : {}),
        // Told of a failover by the sentinels (+switch-master) rather than only by a broken connection.
        failoverDetector: true,
        reconnectOnError: reconnectOnReadonly,
      });
    case 'cluster': {
      const options: ClusterOptions = {
        lazyConnect: true,
        enableOfflineQueue: role === 'waiting',
        redisOptions: { ...common, ...auth(topology.auth), reconnectOnError: reconnectOnReadonly },
        ...(role === 'commands' ? { maxRedirections: 6 } : {}),
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        // TLS certificates name the host given, not the address a node announces.
        ...(topology.auth.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
      };
      return new Cluster(topology.nodes, options);
    }
  }
}

function auth(a: { username?: string; password?: string; tls: boolean }): RedisOptions {
  return {
    ...(a.username !== undefined ? { username: a.username } : {}),
    ...(a.password !== undefined ? { password: a.password } : {}),
    ...(a.tls ? { tls: {} } : {}),
  };
}

/**
 * Every Redis connection of a process comes from here and is ended at shutdown: the shared
 * `commands` connection (the REDIS token), dedicated named ones for whatever holds a
 * connection (a blocking stream read, the subscriber), and the clients given to BullMQ
 * (`bullmq`) together with every copy BullMQ makes of them (`duplicate()`: a worker's blocking
 * connection, a QueueEvents reader). A connection ended here stops reconnecting, whatever
 * state its user left it in: a BullMQ close that could not finish while Redis was down leaves
 * nothing retrying behind it.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly named = new Map<string, RedisClient>();
  private readonly connecting = new Map<string, Promise<void>>();
  private readonly all = new Set<RedisClient>();
  private closed = false;

  constructor(@Inject(REDIS_SETTINGS) private readonly settings: RedisSettings) {}

  /** Whether keys of different hash slots live on different servers (MULTI, MGET and Lua stay within one slot). */
  get isCluster(): boolean {
    return this.settings.topology.mode === 'cluster';
  }

  /** The named connection, made on first use. It connects in the background; errors surface on commands and in readiness. */
  get(name: string, role: ConnectionRole): RedisClient {
    let redis = this.named.get(name);
    if (!redis) {
      redis = this.open(role);
      this.connecting.set(name, this.connectInBackground(redis));
      this.named.set(name, redis);
    }
    return redis;
  }

  /** `get`, once the first attempt to connect has ended: connected if Redis answers, retrying in the background if not. */
  async connected(name: string, role: ConnectionRole): Promise<RedisClient> {
    const redis = this.get(name, role);
    await this.connecting.get(name);
    return redis;
  }

  /**
   * The client BullMQ's queues (`producer`: fails fast) or workers and queue-event readers
   * (`worker`: waits) of this process share. BullMQ closes none of it, and makes its own copies
   * for blocking reads (`duplicate()`), which are tracked here as well.
   */
  bullmq(role: 'producer' | 'worker'): RedisClient {
    return role === 'producer' ? this.get('bullmq-producer', 'commands') : this.get('bullmq-worker', 'waiting');
  }

  /** End every connection made here (and stop its reconnecting); later connections are refused. */
  onApplicationShutdown(): void {
    this.closed = true;
    for (const redis of this.all) redis.disconnect();
    this.all.clear();
    this.named.clear();
  }

  private open(role: ConnectionRole): RedisClient {
    if (this.closed) throw new Error('Redis connections are closed (the application is shutting down)');
    return this.track(createRedisClient(this.settings.topology, role));
  }

  private track(redis: RedisClient): RedisClient {
    // ioredis reconnects by itself; an unhandled 'error' event would end the process.
    redis.on('error', () => undefined);
    const duplicate = redis.duplicate.bind(redis) as (...args: unknown[]) => RedisClient;
    // Copies (BullMQ makes them for blocking reads) are this process's connections too.
    (redis as { duplicate: (...args: unknown[]) => RedisClient }).duplicate = (...args: unknown[]) => {
      const copy = this.track(duplicate(...args));
      if (this.closed) copy.disconnect();
      // Already connecting when BullMQ gets it: BullMQ would connect it itself and give up for
      // good on a first attempt that fails, where ioredis keeps retrying.
      else void this.connectInBackground(copy);
      return copy;
    };
    // Kept until shutdown, even once ended: BullMQ may connect an ended client again.
    this.all.add(redis);
    return redis;
  }

  private connectInBackground(redis: RedisClient): Promise<void> {
    return redis.connect().catch(() => undefined);
  }
}
