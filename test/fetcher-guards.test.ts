import { parseCacheEntry } from '@cimd/core';
import { INestApplicationContext } from '@nestjs/common';
import { FETCH_QUEUE, fetchJobId, FetchJobData, FetchJobResult, RedisKeys } from '@cimd/contracts';
import { startClientHost, TestOrigin, waitFor } from '@cimd/testing';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { FetcherConfig } from '../apps/fetcher/src/fetcher-config';
import { FailureCooldown } from '../apps/fetcher/src/fetch/failure-cooldown';
import { OriginRateLimiter } from '../apps/fetcher/src/fetch/origin-rate-limiter';
import { createFetcherApp } from '../apps/fetcher/src/main';
import { enqueueFetch } from './support/fetch-jobs';
import { fetcherConfigFor } from './support/fetcher-config';

/**
 * The fetcher's guards against being a traffic reflector, and its graceful shutdown, against
 * the real Redis (this file's own key prefix) and a local HTTPS origin.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-guards-${process.pid}`;
const keys = new RedisKeys(PREFIX);

let origin: TestOrigin;
let redis: Redis;
let queueConnection: Redis;
let queue: Queue<FetchJobData, FetchJobResult>;
let config: FetcherConfig;

function serve(path: string, delayMs = 0): string {
  const id = `https://client.test:${origin.port}${path}`;
  const body = JSON.stringify({
    client_id: id,
    client_name: 'Guards',
    redirect_uris: ['https://client.test/cb'],
    token_endpoint_auth_method: 'none',
  });
  origin.route(path, (_req, res) => {
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), delayMs);
  });
  return id;
}

beforeAll(async () => {
  const host = await startClientHost();
  origin = host.origin;
  config = {
    ...fetcherConfigFor(host, { REDIS_URL, CIMD_REDIS_PREFIX: PREFIX }),
    originRateLimit: { max: 2, windowMs: 60_000 },
  };
  redis = new Redis(REDIS_URL);
  queueConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue(FETCH_QUEUE, { connection: queueConnection, prefix: keys.queuePrefix });
});

afterAll(async () => {
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  queueConnection.disconnect();
  const stale = await redis.keys(`${PREFIX}:*`);
  if (stale.length > 0) await redis.del(...stale);
  redis.disconnect();
  await origin.close();
});

describe('origin rate limit (shared through Redis)', () => {
  it('lets `max` fetches per window through and asks the rest to wait until the next window', async () => {
    const limiter = new OriginRateLimiter(redis, keys, { originRateLimit: { max: 3, windowMs: 60_000 } });
    const now = 120_000 * 1000; // the start of a window
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(await limiter.acquire('https://victim.example', now));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    for (const w of waits.slice(3)) {
      expect(w).toBeGreaterThanOrEqual(60_000);
      expect(w).toBeLessThan(120_000);
    }
    // Another origin has its own budget.
    expect(await limiter.acquire('https://other.example', now)).toBe(0);
  });

  it('a fleet sharing the limit delays excess jobs for one origin instead of fetching or failing them', async () => {
    const app = await createFetcherApp(config);
    await app.init();
    try {
      const ids = ['/r1.json', '/r2.json', '/r3.json', '/r4.json'].map((p) => serve(p));
      for (const id of ids) await enqueueFetch(queue, id, 'miss');
      await waitFor(async () => (await queue.getJobCounts('delayed')).delayed === 2, 'two delayed jobs');
      const fetched = () => ['/r1.json', '/r2.json', '/r3.json', '/r4.json'].reduce((n, p) => n + origin.hits(p), 0);
      await waitFor(() => Promise.resolve(fetched() === 2), 'two fetches');
      await new Promise((r) => setTimeout(r, 300));
      expect(fetched()).toBe(2);
      expect((await queue.getJobCounts('delayed')).delayed).toBe(2);
      expect((await queue.getJobCounts('failed')).failed).toBe(0);
    } finally {
      await app.close();
      await queue.obliterate({ force: true });
    }
  });
});

describe('origin rate limit and cooldown together', () => {
  it('a job skipped for its cooldown leaves the origin its budget: the fetches after it are not delayed', async () => {
    const app = await createFetcherApp(config);
    await app.init();
    try {
      // This origin's window starts empty whatever the tests before did.
      const windows = await redis.keys(`${PREFIX}:origin-rate:*`);
      if (windows.length > 0) await redis.del(...windows);
      const cooling = serve('/cooling.json');
      await new FailureCooldown(redis, keys, { cooldownMaxSeconds: 100 }).recordFailure(cooling);
      await enqueueFetch(queue, cooling, 'miss');
      await waitFor(async () => (await queue.getJob(fetchJobId(cooling))) === undefined || undefined, 'the skip');
      const ids = ['/after-1.json', '/after-2.json'].map((p) => serve(p));
      for (const id of ids) await enqueueFetch(queue, id, 'miss');
      await waitFor(
        () => Promise.resolve(origin.hits('/after-1.json') + origin.hits('/after-2.json') === 2 || undefined),
        'both fetches (the limit is 2)',
      );
      expect(origin.hits('/cooling.json')).toBe(0);
      expect((await queue.getJobCounts('delayed')).delayed).toBe(0);
    } finally {
      await app.close();
      await queue.obliterate({ force: true });
    }
  });
});

describe('failure cooldown', () => {
  it('grows with each failure, is capped, and is cleared by a success', async () => {
    const cooldown = new FailureCooldown(redis, keys, { cooldownMaxSeconds: 100 });
    const id = 'https://flaky.example/c.json';
    expect(await cooldown.active(id)).toBe(false);
    expect(await cooldown.recordFailure(id)).toBe(30_000);
    expect(await cooldown.recordFailure(id)).toBe(60_000);
    expect(await cooldown.recordFailure(id)).toBe(100_000);
    expect(await cooldown.active(id)).toBe(true);
    await cooldown.clear(id);
    expect(await cooldown.active(id)).toBe(false);
  });
});

describe('graceful shutdown', () => {
  it('on close, finishes the fetch in flight and writes it back before stopping', async () => {
    const app: INestApplicationContext = await createFetcherApp({
      ...config,
      originRateLimit: { max: 100, windowMs: 60_000 },
    });
    await app.init();
    const id = serve('/slow.json', 700);
    await enqueueFetch(queue, id, 'miss');
    await waitFor(() => Promise.resolve(origin.hits('/slow.json') === 1), 'the origin to receive the request');
    await app.close();
    const entry = parseCacheEntry(await redis.get(keys.clientEntry(id)));
    expect(entry?.status).toBe('valid');
  });
});
