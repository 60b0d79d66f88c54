import { parseCacheEntry } from '@cimd/core';
import { INestApplicationContext } from '@nestjs/common';
import {
  clientKey,
  FETCH_QUEUE,
  fetchJobId,
  FetchJobData,
  FetchJobResult,
  parseEventFields,
  RedisKeys,
} from '@cimd/contracts';
import { freePort, startClientHost, TestOrigin, waitFor } from '@cimd/testing';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetcherConfigFor } from '../support/fetcher-config';
import { createFetcherApp } from '../../apps/fetcher/src/main';
import { ROOT } from './support/manifests';
import { enqueueFetch } from '../support/fetch-jobs';

/**
 * The cimd-fetcher Redis ACL (k8s/dependencies/redis/users.acl.template): it allows what
 * BullMQ 5 and the fetcher need, and the real fetcher works through it, against the real local
 * Redis, as a throwaway user limited to this file's own key prefix; what it must not do is refused.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-acl-${process.pid}`;
const keys = new RedisKeys(PREFIX);
const USER = `test-cimd-fetcher-${process.pid}-${randomBytes(4).toString('hex')}`;
const PASSWORD = randomBytes(24).toString('hex');
const TEMPLATE = join(ROOT, 'k8s/dependencies/redis/users.acl.template');

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The template's line for `user`, filled in as start-redis.sh does. */
function aclLine(user: string, prefix: string, passwords: Record<string, string>): string[] {
  const line = readFileSync(TEMPLATE, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`user ${user} `));
  if (!line) throw new Error(`${TEMPLATE} has no line for the user ${user}`);
  return line
    .replaceAll('${CIMD_REDIS_PREFIX}', prefix)
    .replaceAll('${DEFAULT_PASSWORD_SHA256}', sha256(passwords.default ?? ''))
    .replaceAll('${FETCHER_PASSWORD_SHA256}', sha256(passwords.fetcher ?? ''))
    .split(/\s+/)
    .filter(Boolean);
}

const fetcherRules = (prefix: string) => aclLine('cimd-fetcher', prefix, { fetcher: PASSWORD }).slice(2);

/** Commands the rules allow one by one (`+get`, `+client|setname`). */
function allowedCommands(rules: string[]): Set<string> {
  return new Set(rules.filter((r) => r.startsWith('+') && !r.startsWith('+@')).map((r) => r.slice(1).toLowerCase()));
}

function bullmqScripts(): { file: string; text: string }[] {
  const dir = join(ROOT, 'node_modules/bullmq/dist/cjs/commands');
  const files = [
    ...readdirSync(dir).filter((f) => f.endsWith('.lua')),
    ...readdirSync(join(dir, 'includes')).map((f) => `includes/${f}`),
  ];
  return files.map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') }));
}

describe('the cimd-fetcher ACL, statically', () => {
  it('starts from nothing: no command category, its own key prefix and the fetch-done channel only', () => {
    const rules = fetcherRules('cimd');
    expect(rules.slice(0, 7)).toEqual([
      'on',
      `#${sha256(PASSWORD)}`,
      'resetkeys',
      'resetchannels',
      '~cimd:*',
      '&cimd:fetch-done',
      '-@all',
    ]);
    expect(rules.filter((r) => /^[~%&]/.test(r))).toEqual(['~cimd:*', '&cimd:fetch-done']);
    expect(rules.filter((r) => r.startsWith('+@') || r === 'allcommands' || r === 'allkeys')).toEqual([]);
    for (const dangerous of ['keys', 'scan', 'flushall', 'flushdb', 'config', 'debug', 'acl', 'module', 'shutdown'])
      expect(allowedCommands(rules)).not.toContain(dangerous);
  });

  it("allows every command BullMQ 5's Lua scripts call (so no queue operation fails halfway)", () => {
    const allowed = allowedCommands(fetcherRules('cimd'));
    const called = new Set<string>();
    const dynamic: string[] = [];
    for (const { file, text } of bullmqScripts()) {
      for (const m of text.matchAll(/rcall\(\s*(["'])([A-Za-z]+)\1/g)) called.add((m[2] as string).toLowerCase());
      for (const m of text.matchAll(/rcall\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*[,)]/g)) dynamic.push(`${file}:${m[1]}`);
    }
    // Calls whose command is a variable: what each can be, read from the scripts.
    const DYNAMIC: Record<string, string[]> = {
      'includes/addJobInTargetList.lua:pushCmd': ['lpush', 'rpush'],
      'includes/findPage.lua:command': ['sscan', 'hscan'],
      'paginate-1.lua:countCommand': ['scard', 'hlen'],
    };
    expect(dynamic.sort()).toEqual(Object.keys(DYNAMIC).sort());
    for (const commands of Object.values(DYNAMIC)) for (const c of commands) called.add(c);
    expect(called.size).toBeGreaterThan(40);
    expect([...called].filter((c) => !allowed.has(c)).sort()).toEqual([]);
    // BullMQ's own client-side calls on a worker's and a queue's connections.
    for (const c of ['evalsha', 'eval', 'bzpopmin', 'info', 'client|setname', 'hset', 'multi', 'exec'])
      expect(allowed).toContain(c);
  });

  it('allows what the fetcher needs on a Redis Cluster: the topology look-ups and the outbox of the write-back, nothing else of CLUSTER', () => {
    const allowed = allowedCommands(fetcherRules('cimd'));
    // ioredis's Cluster client: CLUSTER SLOTS (which node holds which slot), CLUSTER INFO (its ready check).
    for (const c of ['cluster|slots', 'cluster|info', 'rpush', 'lrange', 'lrem', 'xadd']) expect(allowed).toContain(c);
    expect([...allowed].filter((c) => c.startsWith('cluster')).sort()).toEqual(['cluster|info', 'cluster|slots']);
  });
});

describe('the cimd-fetcher ACL on the real Redis, with the real fetcher', () => {
  let admin: Redis;
  let asFetcher: Redis;
  let origin: TestOrigin;
  let app: INestApplicationContext | undefined;
  let queue: Queue<FetchJobData, FetchJobResult>;
  let queueConnection: Redis;
  let fetcherUrl: string;

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
    await admin.call('ACL', 'SETUSER', USER, 'reset', ...fetcherRules(PREFIX));
    const u = new URL(REDIS_URL);
    u.username = USER;
    u.password = PASSWORD;
    fetcherUrl = u.toString();
    asFetcher = new Redis(fetcherUrl, { maxRetriesPerRequest: 1 });

    const host = await startClientHost();
    origin = host.origin;
    const config = fetcherConfigFor(host, { REDIS_URL: fetcherUrl, CIMD_REDIS_PREFIX: PREFIX });
    // The gateway's side (the producer) connects as the deployment's default user.
    queueConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue<FetchJobData, FetchJobResult>(FETCH_QUEUE, {
      connection: queueConnection,
      prefix: keys.queuePrefix,
    });
    app = await createFetcherApp(config);
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    queueConnection?.disconnect();
    asFetcher?.disconnect();
    await admin?.call('ACL', 'DELUSER', USER).catch(() => undefined);
    const stale = (await admin?.keys(`${PREFIX}:*`)) ?? [];
    if (stale.length > 0) await admin.del(...stale);
    admin?.disconnect();
    await origin?.close();
  });

  const clientId = (path: string) => `https://client.test:${origin.port}${path}`;

  it('lets the fetcher run a fetch end to end: job taken, document written with its logo, event and fetch-done published', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    origin.route('/logo.png', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    const id = clientId('/acl.json');
    origin.json(
      '/acl.json',
      {
        client_id: id,
        client_name: 'ACL Test',
        redirect_uris: ['https://client.test/cb'],
        token_endpoint_auth_method: 'none',
        logo_uri: clientId('/logo.png'),
      },
      { 'cache-control': 'max-age=600' },
    );
    const subscriber = admin.duplicate();
    const notices: string[] = [];
    await subscriber.subscribe(keys.fetchDone);
    subscriber.on('message', (_channel, message: string) => notices.push(message));
    try {
      await enqueueFetch(queue, id, 'miss');
      const entry = await waitFor(
        async () => parseCacheEntry(await admin.get(keys.clientEntry(id))),
        'the cache entry written by the fetcher as the ACL user',
      );
      expect(entry).toMatchObject({ status: 'valid', document: { client_name: 'ACL Test' } });
      expect(entry.logo).toBeDefined();
      expect(await admin.exists(keys.logo(entry.logo?.sha256 ?? ''))).toBe(1);
      const events = (await admin.xrange(keys.events, '-', '+')).map(([, f]) => parseEventFields(f));
      expect(events.map((e) => e?.type)).toContain('client.fetched');
      await waitFor(() => notices.length > 0 || undefined, 'the fetch-done notice');
    } finally {
      subscriber.disconnect();
    }
  });

  it('lets the fetcher record a transient failure (cooldown counter) and retry it', async () => {
    const id = clientId('/flaky.json');
    origin.route('/flaky.json', (_req, res) => res.writeHead(503).end());
    await enqueueFetch(queue, id, 'miss', { attempts: 2, backoff: { type: 'fetch-backoff', delay: 50 } });
    await waitFor(async () => ((await admin.pttl(keys.fetchFailures(id))) > 0 ? true : undefined), 'the cooldown');
    await waitFor(() => (origin.hits('/flaky.json') >= 2 ? true : undefined), 'the retry');
    await waitFor(async () => ((await queue.getJob(fetchJobId(id))) === undefined ? true : undefined), 'the job');
    // Asked again while cooling down: skipped, and the rate-limit count it took is given back (DECR).
    // Summed over the origin's windows: the skip may fall into the next one.
    const counted = async () => {
      const windows = await admin.keys(`${PREFIX}:origin-rate:${clientKey(new URL(id).origin)}:*`);
      const values = windows.length > 0 ? await admin.mget(...windows) : [];
      return values.reduce((sum, v) => sum + Number(v ?? 0), 0);
    };
    const before = await counted();
    await enqueueFetch(queue, id, 'miss');
    await waitFor(async () => ((await queue.getJob(fetchJobId(id))) === undefined ? true : undefined), 'the skip');
    expect(origin.hits('/flaky.json')).toBe(2);
    expect(await counted()).toBe(before);
  });

  it('was refused nothing while doing so (Redis ACL LOG)', async () => {
    const log = (await admin.call('ACL', 'LOG', '128')) as unknown[][];
    const entries = log.map((flat) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) o[String(flat[i])] = flat[i + 1];
      return o;
    });
    // ioredis announces itself with CLIENT SETINFO (Redis 7.2+) and ignores a refusal.
    const refused = entries.filter((e) => e.username === USER && !String(e.object).startsWith('client|setinfo'));
    expect(refused).toEqual([]);
  });

  it('refuses other prefixes, other channels and administrative commands, also from inside a script', async () => {
    const subscriber = asFetcher.duplicate();
    subscriber.on('error', () => undefined);
    const refusals: [string, () => Promise<unknown>][] = [
      ['GET of another deployment', () => asFetcher.get('cimd:client:x')],
      ['SET of another prefix', () => asFetcher.set(`other-${PREFIX}:x`, '1')],
      ['PUBLISH elsewhere', () => asFetcher.publish(`${PREFIX}:invalidate`, 'x')],
      ['SUBSCRIBE', () => subscriber.subscribe(keys.fetchDone)],
      ['KEYS', () => asFetcher.keys(`${PREFIX}:*`)],
      ['SCAN', () => asFetcher.scan(0)],
      ['FLUSHALL', () => asFetcher.flushall()],
      ['FLUSHDB', () => asFetcher.flushdb()],
      ['CONFIG', () => asFetcher.config('GET', 'dir')],
      ['ACL', () => asFetcher.call('ACL', 'LIST')],
      ['CLIENT LIST', () => asFetcher.client('LIST')],
      ['CLUSTER RESET', () => asFetcher.call('CLUSTER', 'RESET')],
      ['script reading another prefix', () => asFetcher.eval("return redis.call('GET', KEYS[1])", 1, 'cimd:client:x')],
      ['script calling FLUSHALL', () => asFetcher.eval("return redis.call('FLUSHALL')", 0)],
    ];
    const outcomes: Record<string, string> = {};
    for (const [what, attempt] of refusals) {
      outcomes[what] = await attempt().then(
        () => 'allowed',
        (e: Error) => (/NOPERM|no permissions|can't run this command/.test(e.message) ? 'refused' : e.message),
      );
    }
    expect(outcomes).toEqual(Object.fromEntries(refusals.map(([what]) => [what, 'refused'])));
    subscriber.disconnect();
    // And what it may do works.
    expect(await asFetcher.set(`${PREFIX}:probe`, '1')).toBe('OK');
    expect(await asFetcher.publish(keys.fetchDone, '{}')).toBeGreaterThanOrEqual(0);
  });
});

describe('k8s/dependencies/redis/start-redis.sh', () => {
  it('starts Redis with the template: the default user needs its password, cimd-fetcher gets its rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cimd-redis-acl-'));
    const port = await freePort();
    const child = spawn(
      'sh',
      [
        join(ROOT, 'k8s/dependencies/redis/start-redis.sh'),
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
      ],
      {
        env: {
          PATH: process.env.PATH,
          ACL_TEMPLATE: TEMPLATE,
          ACL_FILE: join(dir, 'users.acl'),
          CIMD_REDIS_PREFIX: PREFIX,
          REDIS_PASSWORD: 'default-secret',
          FETCHER_REDIS_PASSWORD: 'fetcher-secret',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.on('error', () => undefined);
    const connect = (user?: string, password?: string) =>
      new Redis({
        port,
        host: '127.0.0.1',
        ...(user ? { username: user, password } : {}),
        lazyConnect: true,
        enableReadyCheck: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
    const anonymous = connect();
    const gateway = connect('default', 'default-secret');
    const fetcher = connect('cimd-fetcher', 'fetcher-secret');
    try {
      await waitFor(async () => {
        if (child.exitCode !== null)
          throw new Error(`start-redis.sh exited ${child.exitCode}: ${stderr || 'is redis-server installed?'}`);
        const probe = connect('default', 'default-secret');
        probe.on('error', () => undefined);
        const up = await probe.ping().then(
          () => true,
          () => undefined,
        );
        probe.disconnect();
        return up;
      }, 'Redis started by start-redis.sh');
      await anonymous.connect();
      await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
      await gateway.connect();
      expect(await gateway.set('anything', '1')).toBe('OK');
      await fetcher.connect();
      expect(await fetcher.set(`${PREFIX}:x`, '1')).toBe('OK');
      await expect(fetcher.get('anything')).rejects.toThrow(/NOPERM/);
      // No password is written in clear.
      const acl = readFileSync(join(dir, 'users.acl'), 'utf8');
      expect(acl).not.toMatch(/secret/);
      expect(acl).toContain(`~${PREFIX}:*`);
      await gateway.shutdown('NOSAVE').catch(() => undefined);
    } finally {
      for (const c of [anonymous, gateway, fetcher]) c.disconnect();
      child.kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
