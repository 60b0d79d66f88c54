import { ConfigError, Env } from './env';

/** One Redis server (a cluster node or a sentinel), as given in a list. */
export interface RedisNode {
  host: string;
  port: number;
}

/** The ACL user and password the apps authenticate with, and whether to speak TLS. */
export interface RedisAuth {
  username?: string;
  password?: string;
  tls: boolean;
}

/**
 * Where a deployment's Redis is, exactly one of:
 * - `single`: one server (`REDIS_URL`; credentials and TLS in the URL or from REDIS_USERNAME / REDIS_PASSWORD);
 * - `cluster`: a Redis Cluster, reached through any of its nodes (`REDIS_CLUSTER_NODES`);
 * - `sentinel`: a primary managed by Sentinel (`REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`).
 */
export type RedisTopology =
  | { mode: 'single'; url: string; username?: string; password?: string }
  | { mode: 'cluster'; nodes: RedisNode[]; auth: RedisAuth }
  | {
      mode: 'sentinel';
      sentinels: RedisNode[];
      master: string;
      auth: RedisAuth;
      /** The sentinels' own password (`requirepass` of the sentinels), when they have one. */
      sentinelPassword?: string;
    };

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The variables read here, for messages and documentation. */
export const REDIS_VARIABLES = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_MASTER',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
] as const;

const blank = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

/**
 * The deployment's Redis from the environment, shared by the gateway and the fetcher. Exactly
 * one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS (none: REDIS_URL's default, one
 * local server); every other combination is a ConfigError naming the variables. Passwords are
 * never quoted in a message.
 */
export function parseRedisEnv(env: Env): RedisTopology {
  const problems: string[] = [];
  const given = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((n) => !blank(env[n]));
  if (given.length > 1)
    problems.push(
      `${given.join(', ')}: set exactly one of REDIS_URL (one server), REDIS_CLUSTER_NODES (a Redis Cluster) and REDIS_SENTINELS (with REDIS_SENTINEL_MASTER)`,
    );
  const mode = given.length === 1 ? (given[0] ?? 'REDIS_URL') : 'REDIS_URL';
  const username = blank(env.REDIS_USERNAME) ? undefined : env.REDIS_USERNAME;
  const password = blank(env.REDIS_PASSWORD) ? undefined : env.REDIS_PASSWORD;
  if (username !== undefined && password === undefined)
    problems.push('REDIS_USERNAME: needs REDIS_PASSWORD (an ACL user authenticates with both)');
  if (username !== undefined && !/^[\x21-\x7e]+$/.test(username))
    problems.push('REDIS_USERNAME: must be printable ASCII without spaces');
  if (mode !== 'REDIS_SENTINELS') {
    for (const name of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD'] as const)
      if (!blank(env[name])) problems.push(`${name}: only applies with REDIS_SENTINELS`);
  }

  let topology: RedisTopology | undefined;
  if (mode === 'REDIS_URL') {
    const url = env.REDIS_URL === undefined || blank(env.REDIS_URL) ? DEFAULT_REDIS_URL : env.REDIS_URL;
    const parsed = parseUrl(url);
    if (!parsed || !['redis:', 'rediss:'].includes(parsed.protocol)) {
      problems.push(`REDIS_URL: must be a redis or rediss URL (got ${JSON.stringify(redacted(url))})`);
    } else if ((parsed.username || parsed.password) && (username !== undefined || password !== undefined)) {
      problems.push(
        'REDIS_URL, REDIS_USERNAME/REDIS_PASSWORD: give the credentials once, in the URL or in the variables',
      );
    } else {
      topology = {
        mode: 'single',
        url,
        ...(username !== undefined ? { username } : {}),
        ...(password !== undefined ? { password } : {}),
      };
    }
  } else {
    const list = nodeList(mode, env[mode] ?? '', problems);
    let master: string | undefined;
    if (mode === 'REDIS_SENTINELS') {
      master = blank(env.REDIS_SENTINEL_MASTER) ? undefined : env.REDIS_SENTINEL_MASTER?.trim();
      if (master === undefined)
        problems.push('REDIS_SENTINEL_MASTER: is required with REDIS_SENTINELS (the name the sentinels monitor)');
      else if (!/^[A-Za-z0-9._-]+$/.test(master))
        problems.push(`REDIS_SENTINEL_MASTER: must be letters, digits, ., _ or - (got ${JSON.stringify(master)})`);
    }
    if (list) {
      const auth: RedisAuth = {
        tls: list.tls,
        ...(username !== undefined ? { username } : {}),
        ...(password !== undefined ? { password } : {}),
      };
      if (mode === 'REDIS_CLUSTER_NODES') topology = { mode: 'cluster', nodes: list.nodes, auth };
      else if (master !== undefined)
        topology = {
          mode: 'sentinel',
          sentinels: list.nodes,
          master,
          auth,
          ...(blank(env.REDIS_SENTINEL_PASSWORD) ? {} : { sentinelPassword: env.REDIS_SENTINEL_PASSWORD }),
        };
    }
  }
  if (problems.length > 0 || !topology) throw new ConfigError(problems);
  return topology;
}

/**
 * `host:port,host:port,…`; each may be written `redis://host:port` or `rediss://host:port`
 * (TLS), all alike. No credentials in the list: they are REDIS_USERNAME and REDIS_PASSWORD.
 */
function nodeList(name: string, value: string, problems: string[]): { nodes: RedisNode[]; tls: boolean } | undefined {
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const nodes: RedisNode[] = [];
  const schemes = new Set<string>();
  const before = problems.length;
  for (const entry of entries) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `redis://${entry}`;
    const u = parseUrl(withScheme);
    const problem = !u
      ? 'is not host:port'
      : !['redis:', 'rediss:'].includes(u.protocol)
        ? 'must be host:port, redis://host:port or rediss://host:port'
        : u.username || u.password
          ? 'must not carry credentials (use REDIS_USERNAME and REDIS_PASSWORD)'
          : !u.port
            ? 'needs a port'
            : (u.pathname !== '' && u.pathname !== '/') || u.search || u.hash
              ? 'must be only host:port'
              : undefined;
    if (problem || !u) {
      problems.push(`${name}: ${JSON.stringify(redacted(entry))} ${problem}`);
      continue;
    }
    schemes.add(u.protocol);
    nodes.push({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) });
  }
  if (entries.length === 0) problems.push(`${name}: must list at least one host:port`);
  if (schemes.size > 1) problems.push(`${name}: mixes redis:// and rediss:// (TLS is all or nothing)`);
  if (problems.length > before) return undefined;
  return { nodes, tls: schemes.has('rediss:') };
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** A value for a message, with any password in it replaced. */
function redacted(value: string): string {
  return value.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
}
