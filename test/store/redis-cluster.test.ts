import { CHANNELS, clientKey, FETCH_QUEUE, fetchJobId, parseEventFields, RedisKeys } from '@cimd/contracts';
import { CacheEntry, ClientEvent, clientEvent } from '@cimd/core';
import { createLogger, LOGGER } from '@cimd/runtime';
import {
  ClientCacheRepository,
  EventRelayError,
  QueueWorkers,
  RedisConnections,
  RedisModule,
  RedisPubSub,
  REDIS,
} from '@cimd/store';
import { startClientHost, TestOrigin, waitFor } from '@cimd/testing';
import { Global, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { createFetcherApp } from '../../apps/fetcher/src/main';
import { ClientAuthRepository } from '../../apps/gateway/src/client-auth/client-auth.repository';
import { PrivateRedisCluster } from '../reliability/support/redis-topologies';
import { stopAll } from '../reliability/support/servers';
import { enqueueFetch } from '../support/fetch-jobs';
import { fetcherConfigFor } from '../support/fetcher-config';

/**
 * The store on a real Redis Cluster (three primaries of the test's own on loopback ports):
 * every multi-key operation stays in one slot (hash tags), the client's entry and its events
 * land together through the outbox, a relay cut short is finished by the next one, entries of
 * many clients are read across slots, BullMQ runs on the hash-tagged prefix, and pub/sub
 * reaches a subscriber on another node. Failover under load is the reliability suite's
 * (test/reliability/redis-cluster.reliability.ts).
 */
const PREFIX = `test-cluster-${process.pid}`;
const keys = new RedisKeys(PREFIX);
let servers: PrivateRedisCluster;
let app: INestApplicationContext;
let inspect: Cluster;

@Global()
@Module({ providers: [{ provide: LOGGER, useValue: createLogger('test', 'fatal') }], exports: [LOGGER] })
class LoggerModule {}

beforeAll(async () => {
  servers = await PrivateRedisCluster.start({ primaries: 3, replicas: 0 });
  inspect = servers.inspect();
  const nodes = servers.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  @Module({
    imports: [
      LoggerModule,
      RedisModule.forRoot({ topology: { mode: 'cluster', nodes, auth: { tls: false } }, prefix: PREFIX }),
    ],
  })
  class ClusterModule {}
  app = await NestFactory.createApplicationContext(ClusterModule, { logger: false });
  await app.init();
}, 60_000);

afterAll(async () => {
  await app?.close();
  inspect?.disconnect();
  await stopAll();
});

const entry = (clientId: string): CacheEntry => ({
  v: 1,
  client_id: clientId,
  status: 'valid',
  document: {
    client_id: clientId,
    redirect_uris: ['https://app.example/cb'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    application_type: 'web',
  },
  fetched_at: Date.now(),
  refresh_at: Date.now() + 60_000,
  expires_at: Date.now() + 120_000,
});

const fetched = (clientId: string): ClientEvent =>
  clientEvent(
    'client.fetched',
    clientId,
    { revalidated: false, expires_at: Date.now() + 120_000 },
    {
      id: randomUUID(),
      now: Date.now(),
    },
  );

async function streamIds(): Promise<string[]> {
  const entries = await inspect.xrange(keys.events, '-', '+');
  return entries.map(([, fields]) => parseEventFields(fields)?.id ?? '?');
}

const slot = async (key: string) => Number(await inspect.cluster('KEYSLOT', key));

describe('the store on a Redis Cluster', () => {
  it('is a cluster of three primaries, and the connections know it', async () => {
    expect((await servers.nodes()).filter((n) => n.flags.includes('master'))).toHaveLength(3);
    expect(app.get(RedisConnections).isCluster).toBe(true);
  });

  it("keeps a client's keys in one slot (its hash tag), and every BullMQ key in another", async () => {
    const id = 'https://app.example/a.json';
    const slots = await Promise.all(
      [
        keys.clientEntry(id),
        keys.clientOutbox(id),
        keys.fetchFailures(id),
        keys.clientRevocation('acme', id),
        keys.clientRevocation('beta', id),
      ].map(slot),
    );
    expect(new Set(slots).size).toBe(1);
    const queue = await Promise.all(
      ['cimd-fetch:wait', 'cimd-fetch:meta', 'cimd-webhooks:events', 'cimd-maintenance:repeat'].map((k) =>
        slot(`${keys.queuePrefix}:${k}`),
      ),
    );
    expect(new Set(queue).size).toBe(1);
    // Different clients spread over the slots.
    const spread = new Set(
      await Promise.all([...'abcdefgh'].map((c) => slot(keys.clientEntry(`https://${c}.example/`)))),
    );
    expect(spread.size).toBeGreaterThan(4);
  });

  it('writes an entry and its events together: the entry, then every event on the stream, the outbox empty', async () => {
    const cache = app.get(ClientCacheRepository);
    const id = 'https://app.example/together.json';
    const events = [fetched(id), fetched(id)];
    await cache.write(entry(id), 60_000, events);
    expect((await cache.get(id))?.client_id).toBe(id);
    expect(await streamIds()).toEqual(expect.arrayContaining(events.map((e) => e.id)));
    expect(await inspect.exists(keys.clientOutbox(id))).toBe(0);
  });

  it('publishes the fetch-done notice in the write, whatever node holds the client: the entry is there when it arrives', async () => {
    const cache = app.get(ClientCacheRepository);
    const pubsub = app.get(RedisPubSub);
    const reader = servers.inspect();
    const ids = Array.from({ length: 6 }, (_, i) => `https://notice-${i}.example/c.json`);
    const read = new Map<string, Promise<string | null>>();
    await pubsub.subscribe(CHANNELS.fetchDone, (m) => {
      const id = ids.find((one) => clientKey(one) === m.client_key);
      if (id && !read.has(id)) read.set(id, reader.get(keys.clientEntry(id)));
    });
    try {
      // The subscription is made in the background: write until the notices arrive.
      await waitFor(async () => {
        for (const id of ids.filter((one) => !read.has(one)))
          await cache.write(entry(id), 60_000, [fetched(id)], {
            client_key: clientKey(id),
            outcome: 'ok',
            written: true,
          });
        await new Promise((r) => setTimeout(r, 100));
        return read.size === ids.length ? true : undefined;
      }, 'a notice for each client');
      expect(new Set(await Promise.all(ids.map((id) => slot(keys.clientEntry(id))))).size).toBeGreaterThan(1);
      for (const id of ids) expect(JSON.parse((await read.get(id)) ?? '{}')).toMatchObject({ client_id: id });
      for (const id of ids) expect(await inspect.exists(keys.clientOutbox(id))).toBe(0);
    } finally {
      reader.disconnect();
    }
  });

  it('a relay cut short (the stream refuses the append) keeps the events in the outbox; the next relay delivers them', async () => {
    const cache = app.get(ClientCacheRepository);
    const id = 'https://app.example/cut-short.json';
    const events = [fetched(id)];
    const before = await streamIds();
    // The stream key holding a string: every XADD to it fails (WRONGTYPE), on whatever node it lives.
    const stream = await inspect.dumpBuffer(keys.events);
    await inspect.del(keys.events);
    await inspect.set(keys.events, 'not a stream');
    try {
      await expect(cache.write(entry(id), 60_000, events)).rejects.toBeInstanceOf(EventRelayError);
      // The entry stands; its event waits in the outbox.
      expect((await cache.get(id))?.client_id).toBe(id);
      const pending = await cache.forWrite(id);
      expect(pending.outbox.map((item) => (JSON.parse(item) as ClientEvent).id)).toEqual([events[0]?.id]);
    } finally {
      await inspect.del(keys.events);
      if (stream) await inspect.restore(keys.events, 0, stream);
    }
    const { outbox } = await cache.forWrite(id);
    await cache.relay(id, outbox);
    expect(await streamIds()).toEqual([...before, events[0]?.id]);
    expect(await inspect.exists(keys.clientOutbox(id))).toBe(0);
    // A second relay of the same (stale) outbox adds the event again: at least once, never lost.
    await cache.relay(id, outbox);
    expect((await streamIds()).filter((e) => e === events[0]?.id)).toHaveLength(2);
  });

  it('reads the entries of clients in many slots, in the order asked', async () => {
    const cache = app.get(ClientCacheRepository);
    const ids = Array.from({ length: 20 }, (_, i) => `https://many-${i}.example/c.json`);
    for (const id of ids.filter((_, i) => i % 2 === 0)) await cache.write(entry(id), 60_000, []);
    const got = await cache.getMany(ids);
    expect(got.map((e) => e?.client_id)).toEqual(ids.map((id, i) => (i % 2 === 0 ? id : undefined)));
  });

  it('runs BullMQ on the hash-tagged prefix: a job added is processed, and its QueueEvents sees it complete', async () => {
    const connections = app.get(RedisConnections);
    const queue = new Queue('cimd-cluster-test', {
      connection: connections.bullmq('producer'),
      prefix: keys.queuePrefix,
    });
    const events = app.get(QueueWorkers).events('cimd-cluster-test');
    await events.waitUntilReady();
    const completed = new Promise<string>((resolve) => events.on('completed', ({ jobId }) => resolve(jobId)));
    await app.get(QueueWorkers).start(
      'cimd-cluster-test',
      (job) => Promise.resolve({ echoed: job.data }),
      { concurrency: 2 },
      () => undefined,
    );
    await queue.add('echo', { n: 1 }, { jobId: 'job-1' });
    expect(await completed).toBe('job-1');
    await queue.close();
  });

  it("records client assertions' jtis of one moment together, per client's slot: each once, a replay refused (SPEC-NOTES 26)", async () => {
    const jtis = new ClientAuthRepository(app.get(REDIS), app.get(RedisConnections), keys);
    jtis.onModuleInit();
    const clients = Array.from({ length: 12 }, (_, i) => clientKey(`https://jti-${i}.example/c.json`));
    const exp = Math.floor(Date.now() / 1000) + 60;
    // Issued in one turn: every client's first jti, and each client's first jti again.
    const first = clients.map((c) => jtis.claim('acme', c, 'jti-1', exp, Date.now()));
    const again = clients.map((c) => jtis.claim('acme', c, 'jti-1', exp, Date.now()));
    expect(await Promise.all(first)).toEqual(clients.map(() => true));
    expect(await Promise.all(again)).toEqual(clients.map(() => false));
    // Another tenant, another jti: recorded apart.
    expect(await jtis.claim('other', clients[0]!, 'jti-1', exp, Date.now())).toBe(true);
    expect(await jtis.claim('acme', clients[0]!, 'jti-2', exp, Date.now())).toBe(true);
    const ttl = await inspect.pttl(keys.assertionJti('acme', clients[3]!, 'jti-1'));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(121_000);
  });

  it('delivers pub/sub messages to a subscriber whatever node each side is connected to', async () => {
    const pubsub = app.get(RedisPubSub);
    const received: string[] = [];
    await pubsub.subscribe(CHANNELS.fetchDone, (m) => received.push(m.client_key));
    // Published on every node in turn (Redis Cluster broadcasts PUBLISH to all nodes), again
    // until received: the subscription is made in the background.
    const publishers = servers.servers.map((s) => new Redis(s.port, '127.0.0.1'));
    try {
      await waitFor(async () => {
        for (const [i, one] of publishers.entries())
          await one.publish(keys.fetchDone, JSON.stringify({ client_key: `k${i}`, outcome: 'ok', written: true }));
        await new Promise((r) => setTimeout(r, 100));
        return new Set(received).size === publishers.length ? true : undefined;
      }, 'a message published on each node');
    } finally {
      for (const one of publishers) one.disconnect();
    }
    expect([...new Set(received)].sort()).toEqual(publishers.map((_, i) => `k${i}`));
  });
});

describe('the fetcher on a Redis Cluster', () => {
  let origin: TestOrigin;
  let fetcher: INestApplicationContext;
  let queue: Queue;

  beforeAll(async () => {
    const host = await startClientHost();
    origin = host.origin;
    fetcher = await createFetcherApp(fetcherConfigFor(host, { ...servers.env, CIMD_REDIS_PREFIX: PREFIX }));
    await fetcher.init();
    queue = new Queue(FETCH_QUEUE, {
      connection: app.get(RedisConnections).bullmq('producer'),
      prefix: keys.queuePrefix,
    });
  }, 60_000);

  afterAll(async () => {
    await queue?.close();
    await fetcher?.close();
    await origin?.close();
  });

  const clientId = (path: string) => `https://client.test:${origin.port}${path}`;
  const serve = (path: string) =>
    origin.json(path, {
      client_id: clientId(path),
      client_name: 'Cluster',
      redirect_uris: ['https://client.test/cb'],
      token_endpoint_auth_method: 'none',
    });

  it('fetches and writes back: the entry, its client.fetched event on the stream, an empty outbox', async () => {
    const id = clientId('/cluster-ok.json');
    serve('/cluster-ok.json');
    await enqueueFetch(queue, id, 'miss');
    await waitFor(
      async () => (await app.get(ClientCacheRepository).get(id))?.status === 'valid' || undefined,
      'the entry',
    );
    await waitFor(async () => {
      const events = (await inspect.xrange(keys.events, '-', '+')).map(([, f]) => parseEventFields(f));
      return events.some((e) => e?.client_id === id && e.type === 'client.fetched') || undefined;
    }, 'its event on the stream');
    expect(await inspect.exists(keys.clientOutbox(id))).toBe(0);
  });

  it('does not complete a job whose events could not be relayed: it waits, relays once the stream takes them, then completes', async () => {
    const id = clientId('/cluster-relay.json');
    serve('/cluster-relay.json');
    const stream = await inspect.dumpBuffer(keys.events);
    await inspect.del(keys.events);
    await inspect.set(keys.events, 'not a stream');
    let restored = false;
    try {
      await enqueueFetch(queue, id, 'miss');
      // Written, with its event held in the outbox, and the job not done (delayed, its attempts untouched).
      await waitFor(
        async () => (await inspect.llen(keys.clientOutbox(id))) > 0 || undefined,
        'the event in the outbox',
      );
      expect((await app.get(ClientCacheRepository).get(id))?.status).toBe('valid');
      const job = await queue.getJob(fetchJobId(id));
      expect(await job?.getState()).toMatch(/delayed|active|waiting/);
      expect(job?.attemptsMade).toBe(0);
      await new Promise((r) => setTimeout(r, 1200));
      expect(await inspect.llen(keys.clientOutbox(id))).toBeGreaterThan(0);
      expect(await queue.getJob(fetchJobId(id))).toBeDefined();
      expect(origin.hits('/cluster-relay.json')).toBe(1);

      await inspect.del(keys.events);
      if (stream) await inspect.restore(keys.events, 0, stream);
      restored = true;
      await waitFor(
        async () => ((await queue.getJob(fetchJobId(id))) === undefined ? true : undefined),
        'the job completed',
        20_000,
      );
      const events = (await inspect.xrange(keys.events, '-', '+')).map(([, f]) => parseEventFields(f));
      expect(events.filter((e) => e?.client_id === id).map((e) => e?.type)).toEqual(['client.fetched']);
      expect(await inspect.exists(keys.clientOutbox(id))).toBe(0);
      // The resumed job relayed and stopped there: the document was fetched once.
      expect(origin.hits('/cluster-relay.json')).toBe(1);
    } finally {
      if (!restored) {
        await inspect.del(keys.events);
        if (stream) await inspect.restore(keys.events, 0, stream);
      }
    }
  }, 40_000);
});
