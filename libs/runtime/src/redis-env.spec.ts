import { ConfigError } from './env';
import { parseRedisEnv, RedisTopology } from './redis-env';

function problems(env: Record<string, string>): string[] {
  try {
    parseRedisEnv(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
}

describe('parseRedisEnv: one server, a Redis Cluster or a Sentinel-managed primary', () => {
  it.each<[string, Record<string, string>, RedisTopology]>([
    ['nothing set: one local server', {}, { mode: 'single', url: 'redis://127.0.0.1:6379' }],
    [
      'blank variables count as unset',
      { REDIS_URL: ' ', REDIS_CLUSTER_NODES: '' },
      { mode: 'single', url: 'redis://127.0.0.1:6379' },
    ],
    [
      'REDIS_URL with TLS and credentials in it',
      { REDIS_URL: 'rediss://cimd-fetcher:pw@cache.internal:6380/2' },
      { mode: 'single', url: 'rediss://cimd-fetcher:pw@cache.internal:6380/2' },
    ],
    [
      'REDIS_URL with the ACL user in REDIS_USERNAME / REDIS_PASSWORD',
      { REDIS_URL: 'redis://cache:6379', REDIS_USERNAME: 'cimd-fetcher', REDIS_PASSWORD: 'pw' },
      { mode: 'single', url: 'redis://cache:6379', username: 'cimd-fetcher', password: 'pw' },
    ],
    [
      'REDIS_CLUSTER_NODES, host:port',
      { REDIS_CLUSTER_NODES: 'redis-0:6379, redis-1:6379,10.0.0.7:7000', REDIS_PASSWORD: 'pw' },
      {
        mode: 'cluster',
        nodes: [
          { host: 'redis-0', port: 6379 },
          { host: 'redis-1', port: 6379 },
          { host: '10.0.0.7', port: 7000 },
        ],
        auth: { tls: false, password: 'pw' },
      },
    ],
    [
      'REDIS_CLUSTER_NODES over TLS (rediss://), IPv6 in brackets',
      { REDIS_CLUSTER_NODES: 'rediss://[fd00::7]:6380,rediss://redis-1:6380' },
      {
        mode: 'cluster',
        nodes: [
          { host: 'fd00::7', port: 6380 },
          { host: 'redis-1', port: 6380 },
        ],
        auth: { tls: true },
      },
    ],
    [
      'REDIS_SENTINELS with REDIS_SENTINEL_MASTER, an ACL user and the sentinels’ own password',
      {
        REDIS_SENTINELS: 'sentinel-0:26379,sentinel-1:26379,sentinel-2:26379',
        REDIS_SENTINEL_MASTER: 'cimd',
        REDIS_USERNAME: 'default',
        REDIS_PASSWORD: 'pw',
        REDIS_SENTINEL_PASSWORD: 'spw',
      },
      {
        mode: 'sentinel',
        sentinels: [
          { host: 'sentinel-0', port: 26379 },
          { host: 'sentinel-1', port: 26379 },
          { host: 'sentinel-2', port: 26379 },
        ],
        master: 'cimd',
        auth: { tls: false, username: 'default', password: 'pw' },
        sentinelPassword: 'spw',
      },
    ],
  ])('%s', (_case, env, expected) => {
    expect(parseRedisEnv(env)).toEqual(expected);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    [
      'two topologies at once',
      { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:6379' },
      /^REDIS_URL, REDIS_CLUSTER_NODES: set exactly one of REDIS_URL .*REDIS_CLUSTER_NODES .*REDIS_SENTINELS/,
    ],
    [
      'all three',
      { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:6379', REDIS_SENTINELS: 'c:26379' },
      /^REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS: set exactly one/,
    ],
    ['REDIS_SENTINELS without the master name', { REDIS_SENTINELS: 'c:26379' }, /^REDIS_SENTINEL_MASTER: is required/],
    [
      'a master name without sentinels',
      { REDIS_SENTINEL_MASTER: 'cimd' },
      /^REDIS_SENTINEL_MASTER: only applies with REDIS_SENTINELS/,
    ],
    [
      'a sentinel password without sentinels',
      { REDIS_CLUSTER_NODES: 'a:6379', REDIS_SENTINEL_PASSWORD: 'x' },
      /^REDIS_SENTINEL_PASSWORD: only applies with REDIS_SENTINELS/,
    ],
    ['a node without a port', { REDIS_CLUSTER_NODES: 'a:6379,b' }, /^REDIS_CLUSTER_NODES: "b" needs a port/],
    [
      'a node with a path',
      { REDIS_CLUSTER_NODES: 'redis://a:6379/2' },
      /^REDIS_CLUSTER_NODES: "redis:\/\/a:6379\/2" must be only host:port/,
    ],
    [
      'a node of another scheme',
      { REDIS_SENTINELS: 'http://a:26379', REDIS_SENTINEL_MASTER: 'm' },
      /^REDIS_SENTINELS: "http:\/\/a:26379" must be host:port/,
    ],
    ['an empty list', { REDIS_CLUSTER_NODES: ' , ' }, /^REDIS_CLUSTER_NODES: must list at least one host:port/],
    [
      'TLS for some nodes only',
      { REDIS_CLUSTER_NODES: 'rediss://a:6380,b:6379' },
      /^REDIS_CLUSTER_NODES: mixes redis:\/\/ and rediss:\/\//,
    ],
    ['a port out of range', { REDIS_CLUSTER_NODES: 'a:70000' }, /^REDIS_CLUSTER_NODES: "a:70000" is not host:port/],
    [
      'credentials in the node list',
      { REDIS_CLUSTER_NODES: 'redis://u:secret@a:6379' },
      /^REDIS_CLUSTER_NODES: "redis:\/\/u:\*\*\*@a:6379" must not carry credentials/,
    ],
    [
      'a user without a password',
      { REDIS_CLUSTER_NODES: 'a:6379', REDIS_USERNAME: 'cimd' },
      /^REDIS_USERNAME: needs REDIS_PASSWORD/,
    ],
    [
      'credentials both in REDIS_URL and in the variables',
      { REDIS_URL: 'redis://u:p@a:6379', REDIS_PASSWORD: 'q' },
      /^REDIS_URL, REDIS_USERNAME\/REDIS_PASSWORD: give the credentials once/,
    ],
    [
      'a REDIS_URL of another scheme',
      { REDIS_URL: 'http://x' },
      /^REDIS_URL: must be a redis or rediss URL \(got "http:\/\/x"\)/,
    ],
    [
      'a master name with a space',
      { REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_MASTER: 'my master' },
      /^REDIS_SENTINEL_MASTER: must be letters/,
    ],
  ])('refuses %s with a ConfigError naming the variables', (_case, env, message) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('never quotes a password', () => {
    const all = [
      ...problems({ REDIS_URL: 'http://user:hunter22@x', REDIS_PASSWORD: 'hunter22' }),
      ...problems({ REDIS_CLUSTER_NODES: 'redis://u:hunter22@a:6379', REDIS_PASSWORD: 'hunter22' }),
      ...problems({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_PASSWORD: 'hunter22', REDIS_PASSWORD: 'hunter22' }),
    ];
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.join('\n')).not.toContain('hunter22');
  });
});
