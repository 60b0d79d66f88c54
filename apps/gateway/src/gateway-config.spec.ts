import { thrownBy } from '@cimd/testing';
import { ConfigError } from '@cimd/runtime';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, loadGatewayConfig } from './gateway-config';

const configError = (load: () => unknown): ConfigError => thrownBy(load, ConfigError);

/** The one variable without a default. */
const TOKEN = 'an-admin-token-of-32-characters!';
const load = (env: Record<string, string | undefined>) => loadGatewayConfig({ CIMD_ADMIN_TOKEN: TOKEN, ...env });

describe('loadGatewayConfig', () => {
  it('applies the defaults to an environment holding only the admin token', () => {
    expect(load({})).toEqual({
      nodeEnv: 'development',
      host: '0.0.0.0',
      port: 3000,
      grpcPort: 50051,
      redis: { mode: 'single', url: 'redis://127.0.0.1:6379' },
      revalidateIntervalMs: 30000,
      eventsClaimIdleMs: 60000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/cimd',
      redisPrefix: 'cimd',
      logLevel: 'info',
      adminToken: TOKEN,
      authorizeWaitMs: 2500,
      localCacheMs: 1000,
      migrate: 'auto',
      publicUrl: 'http://127.0.0.1:3000',
      httpRequestTimeoutMs: 10000,
      httpKeepAliveTimeoutMs: 65000,
      grpcKeepaliveTimeMs: 60000,
      grpcMaxConnectionIdleMs: 300000,
      grpcMaxConnectionAgeMs: 1800000,
      grpcMaxConnectionAgeGraceMs: 60000,
      webhookAllowedPorts: [443],
    });
    expect(DEFAULT_REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(DEFAULT_DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/cimd');
  });

  it('reads every variable it is given', () => {
    expect(
      load({
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: '8080',
        GRPC_PORT: '9090',
        REDIS_URL: 'rediss://cache.internal:6380/2',
        DATABASE_URL: 'postgresql://app@db.internal/cimd',
        LOG_LEVEL: 'warn',
        CIMD_REDIS_PREFIX: 'acme-prod',
        CIMD_REVALIDATE_INTERVAL_MS: '60000',
        CIMD_EVENTS_CLAIM_IDLE_MS: '5000',
        CIMD_AUTHORIZE_WAIT_MS: '1000',
        CIMD_LOCAL_CACHE_MS: '250',
        CIMD_MIGRATE: 'auto',
        CIMD_PUBLIC_URL: 'https://cimd.example.com',
        CIMD_HTTP_REQUEST_TIMEOUT_MS: '5000',
        CIMD_HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000',
        CIMD_GRPC_KEEPALIVE_TIME_MS: '30000',
        CIMD_GRPC_MAX_CONNECTION_IDLE_MS: '60000',
        CIMD_GRPC_MAX_CONNECTION_AGE_MS: '600000',
        CIMD_GRPC_MAX_CONNECTION_AGE_GRACE_MS: '0',
        CIMD_WEBHOOK_ALLOWED_PORTS: '443, 8443',
      }),
    ).toEqual({
      nodeEnv: 'production',
      host: '127.0.0.1',
      port: 8080,
      grpcPort: 9090,
      redis: { mode: 'single', url: 'rediss://cache.internal:6380/2' },
      revalidateIntervalMs: 60000,
      eventsClaimIdleMs: 5000,
      databaseUrl: 'postgresql://app@db.internal/cimd',
      redisPrefix: 'acme-prod',
      logLevel: 'warn',
      adminToken: TOKEN,
      authorizeWaitMs: 1000,
      localCacheMs: 250,
      migrate: 'auto',
      publicUrl: 'https://cimd.example.com',
      httpRequestTimeoutMs: 5000,
      httpKeepAliveTimeoutMs: 120000,
      grpcKeepaliveTimeMs: 30000,
      grpcMaxConnectionIdleMs: 60000,
      grpcMaxConnectionAgeMs: 600000,
      grpcMaxConnectionAgeGraceMs: 0,
      webhookAllowedPorts: [443, 8443],
    });
  });

  it.each([
    { name: 'PORT', value: 'abc' },
    { name: 'PORT', value: '70000' },
    { name: 'PORT', value: '0' },
    { name: 'GRPC_PORT', value: 'abc' },
    { name: 'GRPC_PORT', value: '65536' },
    { name: 'REDIS_URL', value: 'http://x' },
    { name: 'REDIS_URL', value: 'not a url' },
    { name: 'DATABASE_URL', value: 'mysql://db/cimd' },
    { name: 'NODE_ENV', value: 'staging' },
    { name: 'LOG_LEVEL', value: 'loud' },
    { name: 'CIMD_REDIS_PREFIX', value: 'a:b' },
    { name: 'CIMD_AUTHORIZE_WAIT_MS', value: '-1' },
    { name: 'CIMD_AUTHORIZE_WAIT_MS', value: '30001' },
    { name: 'CIMD_AUTHORIZE_WAIT_MS', value: '1.5' },
    { name: 'CIMD_AUTHORIZE_WAIT_MS', value: 'soon' },
    // A tombstone must reach every replica within a second: no longer local copies.
    { name: 'CIMD_LOCAL_CACHE_MS', value: '1001' },
    { name: 'CIMD_LOCAL_CACHE_MS', value: '-1' },
    { name: 'CIMD_MIGRATE', value: 'yes' },
    // A request may take at least a second to arrive: no timeout of 0 ("never") either.
    { name: 'CIMD_HTTP_REQUEST_TIMEOUT_MS', value: '0' },
    { name: 'CIMD_HTTP_REQUEST_TIMEOUT_MS', value: '999' },
    { name: 'CIMD_HTTP_REQUEST_TIMEOUT_MS', value: '300001' },
    { name: 'CIMD_HTTP_KEEP_ALIVE_TIMEOUT_MS', value: '0' },
    { name: 'CIMD_GRPC_KEEPALIVE_TIME_MS', value: '500' },
    { name: 'CIMD_GRPC_MAX_CONNECTION_IDLE_MS', value: '0' },
    { name: 'CIMD_GRPC_MAX_CONNECTION_AGE_MS', value: 'forever' },
    { name: 'CIMD_GRPC_MAX_CONNECTION_AGE_GRACE_MS', value: '-1' },
    { name: 'CIMD_WEBHOOK_ALLOWED_PORTS', value: '443,https' },
    { name: 'CIMD_WEBHOOK_ALLOWED_PORTS', value: '0' },
    { name: 'CIMD_WEBHOOK_ALLOWED_PORTS', value: '65536' },
    { name: 'CIMD_PUBLIC_URL', value: 'not a url' },
    { name: 'CIMD_PUBLIC_URL', value: '' },
    { name: 'CIMD_PUBLIC_URL', value: '/relative' },
    { name: 'CIMD_PUBLIC_URL', value: 'ftp://cimd.example.com' },
    { name: 'CIMD_PUBLIC_URL', value: 'javascript:alert(1)' },
    { name: 'CIMD_PUBLIC_URL', value: 'https://cimd.example.com/?a=1' },
    { name: 'CIMD_PUBLIC_URL', value: 'https://cimd.example.com/#top' },
    { name: 'CIMD_PUBLIC_URL', value: 'https://user:secret@cimd.example.com' },
  ])('rejects $name=$value with a ConfigError naming the variable and quoting the value', ({ name, value }) => {
    const e = configError(() => load({ [name]: value }));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(e.problems[0]).toContain(`(got ${JSON.stringify(value)})`);
    expect(e.message).toContain(`${name}: `);
    expect(e.message).toContain(JSON.stringify(value));
  });

  it('reports every bad variable at once', () => {
    const e = configError(() => load({ PORT: 'abc', REDIS_URL: 'http://x', NODE_ENV: 'staging' }));
    expect(e.problems).toHaveLength(3);
    expect(e.message).toMatch(/PORT: .*\(got "abc"\)/);
    expect(e.message).toMatch(/REDIS_URL: must be a redis or rediss URL \(got "http:\/\/x"\)/);
    expect(e.message).toMatch(/NODE_ENV: .*\(got "staging"\)/);
  });

  it('reads a Redis Cluster or a Sentinel set through the parser it shares with the fetcher (parseRedisEnv)', () => {
    expect(load({ REDIS_CLUSTER_NODES: 'r0:6379,r1:6379', REDIS_PASSWORD: 'pw' }).redis).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'r0', port: 6379 },
        { host: 'r1', port: 6379 },
      ],
      auth: { tls: false, password: 'pw' },
    });
    expect(load({ REDIS_SENTINELS: 's0:26379', REDIS_SENTINEL_MASTER: 'cimd' }).redis).toMatchObject({
      mode: 'sentinel',
      master: 'cimd',
    });
    const e = configError(() => load({ PORT: 'abc', REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 's0:26379' }));
    expect(e.problems).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^REDIS_URL, REDIS_SENTINELS: set exactly one of/),
    ]);
  });

  describe('CIMD_ADMIN_TOKEN', () => {
    it('is required: without it start-up fails with a ConfigError naming it', () => {
      const e = configError(() => loadGatewayConfig({}));
      expect(e.problems).toEqual([
        'CIMD_ADMIN_TOKEN: is required: the platform admin bearer token (at least 16 characters)',
      ]);
      expect(e.message).toContain('CIMD_ADMIN_TOKEN');
      // Reported together with the other problems, not after them.
      expect(configError(() => loadGatewayConfig({ PORT: 'abc' })).problems).toHaveLength(2);
    });

    it.each([
      { case: 'empty', value: '', problem: 'must be at least 16 characters' },
      { case: 'short (15 characters)', value: 'fifteen-chars-x', problem: 'must be at least 16 characters' },
      { case: 'with a space', value: 'sixteen chars ok', problem: 'must be printable ASCII without spaces' },
      { case: 'non-ASCII', value: 'jeton-d’administration', problem: 'must be printable ASCII without spaces' },
      { case: 'longer than a bearer token may be', value: 'x'.repeat(513), problem: 'must be at most 512 characters' },
    ])('refuses a token that is $case, without quoting it', ({ value, problem }) => {
      const e = configError(() => loadGatewayConfig({ CIMD_ADMIN_TOKEN: value }));
      expect(e.problems).toEqual([`CIMD_ADMIN_TOKEN: ${problem} (value not shown)`]);
      if (value !== '') expect(e.message).not.toContain(value);
    });

    it('accepts 16 to 512 printable characters as they are', () => {
      for (const token of ['0123456789abcdef', 'x'.repeat(512), '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~']) {
        expect(loadGatewayConfig({ CIMD_ADMIN_TOKEN: token }).adminToken).toBe(token);
      }
    });

    it('still quotes the values of the other variables', () => {
      const e = configError(() => loadGatewayConfig({ CIMD_ADMIN_TOKEN: 'short', PORT: 'abc' }));
      expect(e.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^PORT: .*\(got "abc"\)$/)]));
      expect(e.message).not.toContain('"short"');
    });
  });

  describe('defaults that depend on other variables', () => {
    it.each([
      { env: {}, migrate: 'auto' },
      { env: { NODE_ENV: 'development' }, migrate: 'auto' },
      { env: { NODE_ENV: 'test' }, migrate: 'auto' },
      { env: { NODE_ENV: 'production' }, migrate: 'off' },
      { env: { NODE_ENV: 'production', CIMD_MIGRATE: 'auto' }, migrate: 'auto' },
      { env: { NODE_ENV: 'development', CIMD_MIGRATE: 'off' }, migrate: 'off' },
    ])('CIMD_MIGRATE with $env → $migrate (auto unless NODE_ENV=production)', ({ env, migrate }) => {
      expect(load(env).migrate).toBe(migrate);
    });

    it.each([
      { env: {}, wait: 2500 },
      { env: { CIMD_AUTHORIZE_WAIT_MS: '0' }, wait: 0 },
      { env: { CIMD_AUTHORIZE_WAIT_MS: '30000' }, wait: 30_000 },
    ])('CIMD_AUTHORIZE_WAIT_MS with $env → $wait', ({ env, wait }) => {
      expect(load(env).authorizeWaitMs).toBe(wait);
    });

    it.each([
      { env: {}, grpcPort: 50051 },
      { env: { GRPC_PORT: '50052' }, grpcPort: 50052 },
      { env: { PORT: '8080' }, grpcPort: 50051 },
    ])('GRPC_PORT with $env → $grpcPort', ({ env, grpcPort }) => {
      expect(load(env).grpcPort).toBe(grpcPort);
    });

    it.each([
      { env: {}, publicUrl: 'http://127.0.0.1:3000' },
      { env: { PORT: '8080' }, publicUrl: 'http://127.0.0.1:8080' },
      { env: { PORT: '8080', CIMD_PUBLIC_URL: 'https://cimd.example.com' }, publicUrl: 'https://cimd.example.com' },
      { env: { CIMD_PUBLIC_URL: 'https://cimd.example.com/' }, publicUrl: 'https://cimd.example.com' },
      { env: { CIMD_PUBLIC_URL: 'https://example.com/cimd/' }, publicUrl: 'https://example.com/cimd' },
      { env: { CIMD_PUBLIC_URL: 'http://localhost:8080' }, publicUrl: 'http://localhost:8080' },
      { env: { CIMD_PUBLIC_URL: 'HTTPS://CIMD.Example.COM:443/' }, publicUrl: 'https://cimd.example.com' },
    ])('CIMD_PUBLIC_URL with $env → $publicUrl (the base of logo URLs, no trailing slash)', ({ env, publicUrl }) => {
      expect(load(env).publicUrl).toBe(publicUrl);
    });
  });
});
