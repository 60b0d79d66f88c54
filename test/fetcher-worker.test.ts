import { CacheEntry, ClientEvent, parseCacheEntry } from '@cimd/core';
import { INestApplicationContext } from '@nestjs/common';
import {
  clientKey,
  DEFAULT_FETCH_JOB_OPTIONS,
  FETCH_QUEUE,
  fetchJobId,
  FetchJobData,
  FetchJobResult,
  parseEventFields,
  RedisKeys,
} from '@cimd/contracts';
import { startClientHost, TestOrigin, waitFor } from '@cimd/testing';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { FetcherConfig } from '../apps/fetcher/src/fetcher-config';
import { ClientFetchService } from '../apps/fetcher/src/fetch/client-fetch.service';
import { HealthServer } from '../apps/fetcher/src/health/health-server';
import { createFetcherApp } from '../apps/fetcher/src/main';
import { enqueueFetch } from './support/fetch-jobs';
import { fetcherConfigFor } from './support/fetcher-config';

/**
 * The fetcher worker end to end: the real Redis (this file's own key prefix), a real BullMQ
 * queue, a local HTTPS origin with a certificate from a CA made here, reached through the
 * fetcher's test overrides (resolve map, extra CA, 127.0.0.1 exempt from the address block).
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-fetcher-${process.pid}`;
const keys = new RedisKeys(PREFIX);
// A 1x1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

let origin: TestOrigin;
let redis: Redis;
let queue: Queue<FetchJobData, FetchJobResult>;
// BullMQ does not close a connection it was given.
let queueConnection: Redis;
let app: INestApplicationContext;
let config: FetcherConfig;
let healthPort: number;

function clientId(path: string): string {
  return `https://client.test:${origin.port}${path}`;
}

function doc(path: string, extra: Record<string, unknown> = {}) {
  return {
    client_id: clientId(path),
    client_name: 'Worker Test',
    redirect_uris: ['https://client.test/cb', 'https://client.test/cb2'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

async function entry(id: string): Promise<CacheEntry | undefined> {
  return parseCacheEntry(await redis.get(keys.clientEntry(id)));
}

async function events(id: string): Promise<ClientEvent[]> {
  const rows = await redis.xrange(keys.events, '-', '+');
  return rows.map(([, fields]) => parseEventFields(fields)).filter((e): e is ClientEvent => e?.client_id === id);
}

async function fetchNow(id: string, options = {}): Promise<void> {
  await enqueueFetch(queue, id, 'miss', { backoff: { type: 'fetch-backoff', delay: 50 }, ...options });
}

/** The entry written after `after`, once the job that wrote it is gone (a new job with its id would be a no-op). */
async function fetched(id: string, after = 0): Promise<CacheEntry> {
  const e = await waitFor(async () => {
    const current = await entry(id);
    return current && current.fetched_at > after ? current : undefined;
  }, `a cache entry for ${id}`);
  await waitFor(async () => (await queue.getJob(fetchJobId(id))) === undefined, `the fetch job of ${id} to finish`);
  return e;
}

beforeAll(async () => {
  const host = await startClientHost();
  origin = host.origin;
  config = {
    ...fetcherConfigFor(host, { REDIS_URL, CIMD_REDIS_PREFIX: PREFIX, CIMD_ORIGIN_RATE_LIMIT: '1000' }),
    goneConfirmDelayMs: 400,
  };
  redis = new Redis(REDIS_URL);
  queueConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue<FetchJobData, FetchJobResult>(FETCH_QUEUE, {
    connection: queueConnection,
    prefix: keys.queuePrefix,
  });
  app = await createFetcherApp(config);
  await app.init();
  healthPort = app.get(HealthServer).port ?? 0;
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200,
    'the worker to be ready',
  );
});

afterAll(async () => {
  await app?.close();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  queueConnection?.disconnect();
  const stale = await redis.keys(`${PREFIX}:*`);
  if (stale.length > 0) await redis.del(...stale);
  redis?.disconnect();
  await origin?.close();
});

describe('fetcher worker (real Redis, BullMQ and a local HTTPS origin)', () => {
  it('serves health, readiness (Redis and the worker) and Prometheus metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { redis: { status: 'up' }, worker: { status: 'up' }, webhooks: { status: 'up' } },
    });
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    expect(metrics).toContain('cimd_fetch_jobs_total');
    expect(metrics).toContain('cimd_fetch_duration_seconds');
  });

  it('writes a valid document with its lifetime, validators and prefetched logo, and emits client.fetched', async () => {
    origin.route('/logo.png', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
    const id = clientId('/valid.json');
    origin.json('/valid.json', doc('/valid.json', { logo_uri: `https://client.test:${origin.port}/logo.png` }), {
      'cache-control': 'max-age=600',
      etag: '"v1"',
    });
    await fetchNow(id);
    const e = await fetched(id);
    expect(e).toMatchObject({ status: 'valid', client_id: id, etag: '"v1"', document: { client_name: 'Worker Test' } });
    expect(e.expires_at - e.fetched_at).toBe(600_000);
    expect(e.refresh_at - e.fetched_at).toBe(480_000);
    expect(e.logo?.content_type).toBe('image/png');
    const stored = await redis.getBuffer(keys.logo(e.logo?.sha256 ?? ''));
    expect(stored?.subarray(stored.indexOf(10) + 1).equals(PNG)).toBe(true);
    expect((await redis.pttl(keys.clientEntry(id))) / 1000).toBeGreaterThan(600 + config.staleRetentionSeconds - 60);
    expect((await events(id)).map((ev) => ev.type)).toEqual(['client.fetched']);
    expect(origin.requests.find((r) => r.path === '/valid.json')?.headers['user-agent']).toContain('cimd-gateway');
  });

  it('revalidates with If-None-Match; a 304 extends the validated copy (SPEC-NOTES 4)', async () => {
    const id = clientId('/etag.json');
    const body = JSON.stringify(doc('/etag.json'));
    origin.route('/etag.json', (req, res) => {
      if (req.headers['if-none-match'] === '"e1"')
        res.writeHead(304, { etag: '"e1"', 'cache-control': 'max-age=900' }).end();
      else
        res
          .writeHead(200, { 'content-type': 'application/json', etag: '"e1"', 'cache-control': 'max-age=300' })
          .end(body);
    });
    await fetchNow(id);
    const first = await fetched(id);
    await fetchNow(id);
    const second = await fetched(id, first.fetched_at);
    expect(origin.requests.filter((r) => r.path === '/etag.json').map((r) => r.headers['if-none-match'])).toEqual([
      undefined,
      '"e1"',
    ]);
    expect(second.document).toEqual(first.document);
    expect(second.expires_at - second.fetched_at).toBe(900_000);
    const types = (await events(id)).map((ev) => [ev.type, (ev.data as { revalidated?: boolean }).revalidated]);
    expect(types).toEqual([
      ['client.fetched', false],
      ['client.fetched', true],
    ]);
  });

  it('reports which significant fields changed (SPEC-NOTES 23)', async () => {
    const id = clientId('/change.json');
    origin.json('/change.json', doc('/change.json'));
    await fetchNow(id);
    const first = await fetched(id);
    origin.json(
      '/change.json',
      doc('/change.json', { redirect_uris: ['https://client.test/cb'], client_name: 'Renamed' }),
    );
    await fetchNow(id);
    await fetched(id, first.fetched_at);
    const changed = (await events(id)).find((ev) => ev.type === 'client.changed');
    expect(changed?.data).toMatchObject({ changes: ['redirect_uris_removed', 'client_name'] });
  });

  it('a valid client whose document answers 404 is declared gone only when a second fetch after the delay agrees', async () => {
    const id = clientId('/vanishing.json');
    origin.json('/vanishing.json', doc('/vanishing.json'));
    await fetchNow(id);
    const first = await fetched(id);
    origin.route('/vanishing.json', (_req, res) => res.writeHead(404).end());
    await fetchNow(id);
    // First 404: still valid and served, marked suspect, no event yet.
    const suspect = await waitFor(async () => {
      const e = await entry(id);
      return e?.suspect ? e : undefined;
    }, 'the suspect mark');
    expect(suspect).toMatchObject({ status: 'valid', fetched_at: first.fetched_at, suspect: { outcome: 'gone' } });
    expect((await events(id)).map((ev) => ev.type)).toEqual(['client.fetched']);
    // The confirmation fetch, after the delay, still gets 404: now it is gone.
    const gone = await waitFor(async () => {
      const e = await entry(id);
      return e?.status === 'gone' ? e : undefined;
    }, 'the confirmation');
    expect(gone.document).toBeUndefined();
    expect(gone.errors?.[0]?.code).toBe('fetch.gone');
    expect(origin.hits('/vanishing.json')).toBe(3);
    expect((await events(id)).map((ev) => ev.type)).toEqual(['client.fetched', 'client.gone']);
  });

  it('a document that is back by the confirmation fetch is not declared gone', async () => {
    const id = clientId('/blip.json');
    origin.json('/blip.json', doc('/blip.json'));
    await fetchNow(id);
    await fetched(id);
    origin.route('/blip.json', (_req, res) => res.writeHead(410).end());
    await fetchNow(id);
    await waitFor(async () => (await entry(id))?.suspect, 'the suspect mark');
    origin.json('/blip.json', doc('/blip.json'));
    await waitFor(() => origin.hits('/blip.json') === 3, 'the confirmation fetch');
    const back = await waitFor(async () => {
      const e = await entry(id);
      return e && !e.suspect ? e : undefined;
    }, 'the suspect mark to clear');
    expect(back.status).toBe('valid');
    expect((await events(id)).map((ev) => ev.type)).not.toContain('client.gone');
  });

  it('a transient failure during confirmation never declares anything', async () => {
    const id = clientId('/outage.json');
    origin.json('/outage.json', doc('/outage.json'));
    await fetchNow(id);
    await fetched(id);
    origin.route('/outage.json', (_req, res) => res.writeHead(404).end());
    await fetchNow(id);
    await waitFor(async () => (await entry(id))?.suspect, 'the suspect mark');
    origin.route('/outage.json', (_req, res) => res.writeHead(503).end());
    await waitFor(() => origin.hits('/outage.json') >= 3, 'the confirmation fetch');
    await new Promise((r) => setTimeout(r, 300));
    const e = await entry(id);
    expect(e?.status).toBe('valid');
    expect((await events(id)).map((ev) => ev.type)).toEqual(['client.fetched']);
  });

  it('records an invalid document as invalid with its reasons (SPEC-NOTES 15) and emits client.invalid', async () => {
    const id = clientId('/impostor.json');
    origin.json('/impostor.json', doc('/impostor.json', { client_id: 'https://victim.example/client.json' }));
    await fetchNow(id);
    const e = await fetched(id);
    expect(e).toMatchObject({ status: 'invalid', errors: [{ code: 'document.client_id_mismatch' }] });
    expect(e.document).toBeUndefined();
    const [ev] = await events(id);
    expect(ev).toMatchObject({ type: 'client.invalid', client_id: id, version: 1, data: { outcome: 'invalid' } });
    expect(ev?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a document that comes back valid is client.restored', async () => {
    const id = clientId('/restored.json');
    origin.route('/restored.json', (_req, res) => res.writeHead(410).end());
    await fetchNow(id);
    const gone = await fetched(id);
    origin.json('/restored.json', doc('/restored.json'));
    await fetchNow(id);
    const back = await fetched(id, gone.fetched_at);
    expect(back.status).toBe('valid');
    expect((await events(id)).map((ev) => ev.type)).toEqual(['client.gone', 'client.restored', 'client.fetched']);
  });

  it('keeps the last good copy on transient failures, retries with backoff, then cools down', async () => {
    const id = clientId('/flaky.json');
    origin.json('/flaky.json', doc('/flaky.json'));
    await fetchNow(id);
    const good = await fetched(id);
    origin.route('/flaky.json', (_req, res) => res.writeHead(503).end());
    await fetchNow(id, { attempts: 3 });
    await waitFor(() => origin.hits('/flaky.json') === 4, 'three attempts');
    await waitFor(async () => (await queue.getJob(fetchJobId(id))) === undefined, 'the job to finish');
    const after = await entry(id);
    expect(after).toMatchObject({ status: 'valid', fetched_at: good.fetched_at, document: good.document });
    expect(after?.last_error?.code).toBe('fetch.server_error');
    expect(await redis.pttl(keys.fetchFailures(id))).toBeGreaterThan(0);
    // A new request for the cooling-down client is answered without touching the origin.
    await fetchNow(id);
    await waitFor(async () => (await queue.getJobCounts('wait', 'active', 'delayed')).wait === 0, 'the queue to drain');
    await new Promise((r) => setTimeout(r, 200));
    expect(origin.hits('/flaky.json')).toBe(4);
    expect((await events(id)).map((ev) => ev.type)).toEqual(['client.fetched']);
  });

  it('announces every finished attempt on the fetch-done channel, and keeps first_seen_at', async () => {
    const id = clientId('/announced.json');
    origin.json('/announced.json', doc('/announced.json'));
    const subscriber = new Redis(REDIS_URL);
    // Only this client's: clients of earlier tests may still be retrying on the same channel.
    const messages: unknown[] = [];
    subscriber.on('message', (_channel: string, message: string) => {
      const parsed = JSON.parse(message) as { client_key?: string };
      if (parsed.client_key === clientKey(id)) messages.push(parsed);
    });
    await subscriber.subscribe(keys.fetchDone);
    try {
      await fetchNow(id);
      const first = await fetched(id);
      await fetchNow(id);
      const second = await fetched(id, first.fetched_at);
      expect(second.first_seen_at).toBe(first.fetched_at);
      await waitFor(() => messages.length >= 2, 'two announcements');
      expect(messages.slice(0, 2)).toEqual([
        { client_key: clientKey(id), outcome: 'ok', written: true },
        { client_key: clientKey(id), outcome: 'ok', written: true },
      ]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('announces a written entry when it and its attempt are there: a gateway woken by the notice reads both', async () => {
    const id = clientId('/read-on-notice.json');
    origin.json('/read-on-notice.json', doc('/read-on-notice.json'));
    const subscriber = new Redis(REDIS_URL);
    const reader = new Redis(REDIS_URL);
    // Read as a woken gateway does: sent the moment the notice arrives.
    let seen: Promise<[string | null, string | null]> | undefined;
    subscriber.on('message', (_channel: string, message: string) => {
      if ((JSON.parse(message) as { client_key?: string }).client_key !== clientKey(id) || seen) return;
      seen = Promise.all([reader.get(keys.clientEntry(id)), reader.lindex(keys.fetchAttempts(id), 0)]);
    });
    await subscriber.subscribe(keys.fetchDone);
    try {
      await fetchNow(id);
      await fetched(id);
      const [written, attempt] = await waitFor(() => seen, 'the notice');
      expect(parseCacheEntry(written)?.status).toBe('valid');
      expect(JSON.parse(attempt ?? '{}')).toMatchObject({ outcome: 'ok', reason: 'miss' });
    } finally {
      subscriber.disconnect();
      reader.disconnect();
    }
  });

  it('skips a miss that was asked for before the entry was last written (a racing check), without fetching', async () => {
    const id = clientId('/raced.json');
    origin.json('/raced.json', doc('/raced.json'));
    await fetchNow(id);
    const first = await fetched(id);
    await fetchNow(id, { timestamp: first.fetched_at - 1000 });
    await waitFor(async () => (await queue.getJob(fetchJobId(id))) === undefined, 'the job to finish');
    expect(origin.hits('/raced.json')).toBe(1);
    // An admin refresh is never skipped.
    await enqueueFetch(queue, id, 'admin', { timestamp: first.fetched_at - 1000 });
    await fetched(id, first.fetched_at);
    expect(origin.hits('/raced.json')).toBe(2);
  });

  it('does not fetch again for a job resumed after its fetcher died, once the entry is newer than the request', async () => {
    const id = clientId('/resumed.json');
    origin.json('/resumed.json', doc('/resumed.json'));
    await enqueueFetch(queue, id, 'admin');
    const first = await fetched(id);
    await waitFor(async () => (await queue.getJob(fetchJobId(id))) === undefined, 'the job to finish');
    const service = app.get(ClientFetchService);
    const asked = { clientId: id, reason: 'admin' as const, attemptsMade: 0, requestedAt: first.fetched_at - 1000 };
    // The same admin job run again after a crash: its write-back happened, nothing more to do.
    expect(await service.run({ ...asked, resumed: true })).toMatchObject({
      outcome: 'already_fresh',
      skipped: 'fresh',
    });
    expect(origin.hits('/resumed.json')).toBe(1);
    expect((await events(id)).map((ev) => ev.type)).toEqual(['client.fetched']);
    // Run for the first time, the same admin request fetches.
    expect(await service.run(asked)).toMatchObject({ outcome: 'ok' });
    expect(origin.hits('/resumed.json')).toBe(2);
  });

  it('makes one request for many concurrent jobs of one client', async () => {
    const id = clientId('/herd.json');
    const body = JSON.stringify(doc('/herd.json'));
    origin.route('/herd.json', (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), 300);
    });
    await Promise.all(Array.from({ length: 50 }, () => fetchNow(id)));
    await fetched(id);
    await new Promise((r) => setTimeout(r, 200));
    expect(origin.hits('/herd.json')).toBe(1);
  });

  it('fails a malformed job without retrying and keeps working', async () => {
    await queue.add('fetch', { client_id: 42 } as unknown as FetchJobData, {
      ...DEFAULT_FETCH_JOB_OPTIONS,
      jobId: 'malformed',
      removeOnFail: false,
    });
    await waitFor(async () => (await queue.getJob('malformed'))?.isFailed(), 'the malformed job to fail');
    // Read it again: a Job object is a snapshot from when it was fetched.
    const job = await queue.getJob('malformed');
    if (!job) throw new Error('the failed job was removed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('malformed fetch job');
    await job.remove();
  });

  it('records a logo it cannot use as a warning, not a failure (SPEC-NOTES 21)', async () => {
    const id = clientId('/nologo.json');
    origin.route('/fake.png', (_req, res) =>
      res.writeHead(200, { 'content-type': 'image/png' }).end('<script>alert(1)</script>'),
    );
    origin.json('/nologo.json', doc('/nologo.json', { logo_uri: `https://client.test:${origin.port}/fake.png` }));
    await fetchNow(id);
    const e = await fetched(id);
    expect(e.status).toBe('valid');
    expect(e.logo).toBeUndefined();
    expect(e.warnings).toContain('logo.unavailable');
  });
});
