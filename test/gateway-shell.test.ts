import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadGatewayConfig } from '../apps/gateway/src/gateway-config';
import { Client, escapeIdentifier } from 'pg';
import { createGatewayApp } from '../apps/gateway/src/main';
import { ensureDatabase } from '../apps/gateway/src/infra/postgres';

/**
 * The gateway shell against the real Redis and PostgreSQL: this file creates its own database
 * (unique to the process) and drops it afterwards.
 */
const baseDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cimd';
const databaseName = `cimd_test_gateway_shell_${process.pid}`;
const databaseUrl = withDatabase(baseDatabaseUrl, databaseName);

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

async function dropDatabase(): Promise<void> {
  const admin = new Client({ connectionString: withDatabase(baseDatabaseUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(databaseName)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function inject(app: NestFastifyApplication, method: 'GET' | 'POST', url: string) {
  const res = await app.getHttpAdapter().getInstance().inject({ method, url });
  return { status: res.statusCode, contentType: res.headers['content-type'], body: res.json() };
}

describe('gateway shell (real Redis and PostgreSQL)', () => {
  const apps: NestFastifyApplication[] = [];
  let app: NestFastifyApplication;
  let redisDown: NestFastifyApplication;

  async function start(env: Record<string, string | undefined>): Promise<NestFastifyApplication> {
    const config = loadGatewayConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error', DATABASE_URL: databaseUrl, ...env });
    const created = await createGatewayApp(config);
    apps.push(created);
    await created.init();
    await created.getHttpAdapter().getInstance().ready();
    return created;
  }

  beforeAll(async () => {
    // A leftover from an earlier run with the same pid would make the first call return false.
    await dropDatabase();
    expect(await ensureDatabase(databaseUrl)).toBe(true);
    expect(await ensureDatabase(databaseUrl)).toBe(false);

    app = await start({ REDIS_URL: process.env.REDIS_URL });
    // Nothing listens on port 1: Redis is down from the start.
    redisDown = await start({ REDIS_URL: 'redis://127.0.0.1:1' });
  });

  afterAll(async () => {
    // Close the apps first: dropping the database terminates their pooled connections.
    for (const a of apps) await a.close();
    await dropDatabase();
  });

  it('created the database', async () => {
    const admin = new Client({ connectionString: withDatabase(baseDatabaseUrl, 'postgres') });
    await admin.connect();
    try {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
      expect(found.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
  });

  it('GET /healthz → 200 {status: ok}', async () => {
    const res = await inject(app, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz → 200 with Redis and PostgreSQL up', async () => {
    const res = await inject(app, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ready',
      checks: { redis: { status: 'up' }, postgres: { status: 'up' } },
    });
  });

  it('GET /readyz → 503 naming Redis when Redis is unreachable', async () => {
    const res = await inject(redisDown, 'GET', '/readyz');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('not_ready');
    expect(res.body.checks.redis.status).toBe('down');
    expect(typeof res.body.checks.redis.error).toBe('string');
    expect(res.body.checks.postgres).toEqual({ status: 'up' });
  });

  it('GET /healthz stays 200 while Redis is down (liveness checks nothing else)', async () => {
    const res = await inject(redisDown, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('an unknown route → 404 JSON', async () => {
    const res = await inject(app, 'GET', '/no-such-route');
    expect(res.status).toBe(404);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ statusCode: 404 });
  });

  it('POST /healthz → 404 JSON (only GET is routed)', async () => {
    const res = await inject(app, 'POST', '/healthz');
    expect(res.status).toBe(404);
    expect(res.contentType).toMatch(/^application\/json/);
  });
});
