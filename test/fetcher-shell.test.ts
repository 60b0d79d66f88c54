import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, DEFAULT_REDIS_URL, FetcherConfig, loadFetcherConfig } from '@cimd/runtime';
import { FetcherModule } from '../apps/fetcher/src/fetcher.module';

/**
 * The fetcher shell against the real Redis: a Nest application context whose only listener is
 * the health server, bound to an ephemeral port on the loopback interface.
 */
function config(redisUrl: string): FetcherConfig {
  // FETCHER_PORT must be 1–65535, so the ephemeral port 0 cannot come from the environment.
  return { nodeEnv: 'test', host: '127.0.0.1', port: 0, redisUrl, logLevel: 'error' };
}

async function get(port: number, path: string, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.json() };
}

describe('fetcher shell (real Redis)', () => {
  const contexts: INestApplicationContext[] = [];

  async function start(redisUrl: string): Promise<number> {
    const app = await NestFactory.createApplicationContext(FetcherModule.forRoot(config(redisUrl)), { logger: false });
    contexts.push(app);
    await app.init();
    const port = app.get(FetcherModule).listeningPort;
    if (port === undefined) throw new Error('the health server did not report its port');
    return port;
  }

  let port: number;
  let redisDownPort: number;

  beforeAll(async () => {
    port = await start(process.env.REDIS_URL ?? DEFAULT_REDIS_URL);
    // Nothing listens on port 1: Redis is down from the start.
    redisDownPort = await start('redis://127.0.0.1:1');
  });

  afterAll(async () => {
    for (const app of contexts) await app.close();
  });

  it('refuses FETCHER_PORT=0 from the environment', () => {
    expect(() => loadFetcherConfig({ FETCHER_PORT: '0' })).toThrow(ConfigError);
  });

  it('listens on an ephemeral port', () => {
    expect(port).toBeGreaterThan(0);
    expect(redisDownPort).toBeGreaterThan(0);
    expect(redisDownPort).not.toBe(port);
  });

  it('GET /healthz → 200 {status: ok}', async () => {
    const res = await get(port, '/healthz');
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json');
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz → 200 with Redis up', async () => {
    const res = await get(port, '/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { redis: { status: 'up' } } });
  });

  it('GET /readyz?x=1 ignores the query string', async () => {
    expect((await get(port, '/readyz?x=1')).status).toBe(200);
  });

  it('POST /healthz → 405', async () => {
    const res = await get(port, '/healthz', 'POST');
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ error: 'method_not_allowed' });
  });

  it('GET /nope → 404', async () => {
    const res = await get(port, '/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found' });
  });

  it('GET /readyz → 503 naming Redis when Redis is unreachable', async () => {
    const res = await get(redisDownPort, '/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'not_ready', checks: { redis: { status: 'down' } } });
    expect(res.body).toHaveProperty('checks.redis.error', expect.any(String));
  });

  it('GET /healthz stays 200 while Redis is down', async () => {
    expect((await get(redisDownPort, '/healthz')).status).toBe(200);
  });
});
