import { thrownBy } from '@cimd/testing';
import { ConfigError } from '@cimd/runtime';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFetcherConfig } from './fetcher-config';

const configError = (load: () => unknown): ConfigError => thrownBy(load, ConfigError);

describe('loadFetcherConfig', () => {
  it('applies the defaults to an empty environment', () => {
    expect(loadFetcherConfig({})).toEqual({
      nodeEnv: 'development',
      host: '0.0.0.0',
      port: 3001,
      redis: { mode: 'single', url: 'redis://127.0.0.1:6379' },
      redisPrefix: 'cimd',
      logLevel: 'info',
      fetch: {
        maxBytes: 5120,
        timeoutMs: 5000,
        allowedPorts: [443],
        acceptTextPlain: true,
        resolve: new Map(),
        allowCidrs: [],
      },
      cacheBounds: { minSeconds: 60, maxSeconds: 86400, defaultSeconds: 3600, refreshAheadRatio: 0.8 },
      staleRetentionSeconds: 604800,
      logoMaxBytes: 262144,
      jwksMaxBytes: 32768,
      concurrency: 16,
      globalConcurrency: 64,
      originRateLimit: { max: 20, windowMs: 10000 },
      cooldownMaxSeconds: 3600,
      goneConfirmDelayMs: 60000,
      lockDurationMs: 5000,
      stalledIntervalMs: 2500,
    });
  });

  it('takes LOG_FORMAT when set, and leaves the choice to the rule when it is not', () => {
    expect(loadFetcherConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadFetcherConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadFetcherConfig({ LOG_FORMAT: '' }).logFormat).toBeUndefined();
    expect(loadFetcherConfig({}).logFormat).toBeUndefined();
  });

  it('reads a Redis Cluster through the parser it shares with the gateway (parseRedisEnv)', () => {
    expect(
      loadFetcherConfig({
        REDIS_CLUSTER_NODES: 'rediss://r0:6380',
        REDIS_USERNAME: 'cimd-fetcher',
        REDIS_PASSWORD: 'pw',
      }).redis,
    ).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'r0', port: 6380 }],
      auth: { tls: true, username: 'cimd-fetcher', password: 'pw' },
    });
    expect(configError(() => loadFetcherConfig({ REDIS_SENTINELS: 's0:26379' })).problems).toEqual([
      expect.stringMatching(/^REDIS_SENTINEL_MASTER: is required/),
    ]);
  });

  it('uses FETCHER_PORT, not PORT', () => {
    expect(loadFetcherConfig({ PORT: '9999', FETCHER_PORT: '4001' }).port).toBe(4001);
  });

  it.each([
    { name: 'FETCHER_PORT', value: 'abc' },
    { name: 'FETCHER_PORT', value: '70000' },
    { name: 'REDIS_URL', value: 'http://x' },
    { name: 'NODE_ENV', value: 'staging' },
    { name: 'LOG_FORMAT', value: 'text' },
    { name: 'CIMD_FETCH_TIMEOUT_MS', value: '0' },
    { name: 'CIMD_FETCH_MAX_BYTES', value: 'lots' },
    { name: 'CIMD_FETCH_ALLOWED_PORTS', value: '443,https' },
    { name: 'CIMD_FETCH_ACCEPT_TEXT_PLAIN', value: 'maybe' },
    { name: 'CIMD_FETCH_RESOLVE', value: 'client.test:443' },
    { name: 'CIMD_FETCH_ALLOW_CIDRS', value: '127.0.0.1/33' },
    { name: 'CIMD_CACHE_REFRESH_AHEAD', value: '1.5' },
  ])('rejects $name=$value with a ConfigError naming the variable and quoting the value', ({ name, value }) => {
    const e = configError(() => loadFetcherConfig({ [name]: value }));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(e.problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('reads the fetch limits and test overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cimd-ca-'));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const c = loadFetcherConfig({
      NODE_ENV: 'test',
      CIMD_FETCH_TIMEOUT_MS: '2500',
      CIMD_FETCH_MAX_BYTES: '4096',
      CIMD_FETCH_ALLOWED_PORTS: '443, 8443',
      CIMD_FETCH_ACCEPT_TEXT_PLAIN: 'false',
      CIMD_FETCH_RESOLVE: 'client.test:8443:127.0.0.1,[::1];other.test:443:10.0.0.1',
      CIMD_FETCH_CA_FILE: caFile,
      CIMD_FETCH_ALLOW_CIDRS: '127.0.0.0/8,::1/128',
    });
    expect(c.fetch).toMatchObject({
      timeoutMs: 2500,
      maxBytes: 4096,
      allowedPorts: [443, 8443],
      acceptTextPlain: false,
      allowCidrs: ['127.0.0.0/8', '::1/128'],
    });
    expect(c.fetch.resolve.get('client.test:8443')).toEqual(['127.0.0.1', '::1']);
    expect(c.fetch.resolve.get('other.test:443')).toEqual(['10.0.0.1']);
    expect(c.fetch.extraCa).toContain('BEGIN CERTIFICATE');
  });

  it.each(['CIMD_FETCH_RESOLVE', 'CIMD_FETCH_CA_FILE', 'CIMD_FETCH_ALLOW_CIDRS'])(
    'refuses the test override %s when NODE_ENV=production',
    (name) => {
      const e = configError(() =>
        loadFetcherConfig({
          NODE_ENV: 'production',
          [name]:
            name === 'CIMD_FETCH_RESOLVE'
              ? 'a.test:443:1.2.3.4'
              : name === 'CIMD_FETCH_ALLOW_CIDRS'
                ? '10.0.0.0/8'
                : '/etc/hostname',
        }),
      );
      expect(e.problems.join('\n')).toContain(`${name}: is a test override and is refused when NODE_ENV=production`);
    },
  );

  it('names an unreadable CA file', () => {
    const e = configError(() => loadFetcherConfig({ CIMD_FETCH_CA_FILE: '/nonexistent/ca.pem' }));
    expect(e.problems).toEqual(['CIMD_FETCH_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)']);
  });

  it('refuses inconsistent cache bounds', () => {
    const e = configError(() =>
      loadFetcherConfig({ CIMD_CACHE_MIN_SECONDS: '600', CIMD_CACHE_DEFAULT_SECONDS: '300' }),
    );
    expect(e.problems[0]).toMatch(/^CIMD_CACHE_MIN_SECONDS.*min \(600\) <= default \(300\)/);
  });
});

describe('empty variables', () => {
  it('an empty number variable means "not set", never 0', () => {
    const c = loadFetcherConfig({ CIMD_FETCH_TIMEOUT_MS: '', FETCHER_PORT: ' ' });
    expect(c.fetch.timeoutMs).toBe(5000);
    expect(c.port).toBe(3001);
  });
});
