import { thrownBy } from '@cimd/testing';
import { ConfigError } from '@cimd/runtime';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, loadGatewayConfig } from './gateway-config';

const configError = (load: () => unknown): ConfigError => thrownBy(load, ConfigError);

describe('loadGatewayConfig', () => {
  it('applies the defaults to an empty environment', () => {
    expect(loadGatewayConfig({})).toEqual({
      nodeEnv: 'development',
      host: '0.0.0.0',
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/cimd',
      redisPrefix: 'cimd',
      logLevel: 'info',
    });
    expect(DEFAULT_REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(DEFAULT_DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/cimd');
  });

  it('reads every variable it is given', () => {
    expect(
      loadGatewayConfig({
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: '8080',
        REDIS_URL: 'rediss://cache.internal:6380/2',
        DATABASE_URL: 'postgresql://app@db.internal/cimd',
        LOG_LEVEL: 'warn',
        CIMD_REDIS_PREFIX: 'acme-prod',
      }),
    ).toEqual({
      nodeEnv: 'production',
      host: '127.0.0.1',
      port: 8080,
      redisUrl: 'rediss://cache.internal:6380/2',
      databaseUrl: 'postgresql://app@db.internal/cimd',
      redisPrefix: 'acme-prod',
      logLevel: 'warn',
    });
  });

  it.each([
    { name: 'PORT', value: 'abc' },
    { name: 'PORT', value: '70000' },
    { name: 'PORT', value: '0' },
    { name: 'REDIS_URL', value: 'http://x' },
    { name: 'REDIS_URL', value: 'not a url' },
    { name: 'DATABASE_URL', value: 'mysql://db/cimd' },
    { name: 'NODE_ENV', value: 'staging' },
    { name: 'LOG_LEVEL', value: 'loud' },
    { name: 'CIMD_REDIS_PREFIX', value: 'a:b' },
  ])('rejects $name=$value with a ConfigError naming the variable and quoting the value', ({ name, value }) => {
    const e = configError(() => loadGatewayConfig({ [name]: value }));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(e.problems[0]).toContain(`(got ${JSON.stringify(value)})`);
    expect(e.message).toContain(`${name}: `);
    expect(e.message).toContain(`"${value}"`);
  });

  it('reports every bad variable at once', () => {
    const e = configError(() => loadGatewayConfig({ PORT: 'abc', REDIS_URL: 'http://x', NODE_ENV: 'staging' }));
    expect(e.problems).toHaveLength(3);
    expect(e.message).toMatch(/PORT: .*\(got "abc"\)/);
    expect(e.message).toMatch(/REDIS_URL: must be a redis or rediss URL \(got "http:\/\/x"\)/);
    expect(e.message).toMatch(/NODE_ENV: .*\(got "staging"\)/);
  });
});
