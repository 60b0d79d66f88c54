'use strict';
/**
 * redis_bytes_per_client: Redis memory per cached client. `clients` cache entries shaped like
 * the real-world corpus (each valid corpus document at a varied client_id on its own host,
 * normalized by @cimd/core validateMetadataDocument), written as the fetcher writes them
 * (CacheEntry JSON under RedisKeys.clientEntry with a prefix as long as the default, SET … PX with the
 * fetcher's TTL) into an empty Redis database index of their own. Measured as the growth of
 * INFO used_memory (and its fall when they are deleted), with MEMORY USAGE on a sample.
 * Then as many registered sessions as the gateway keeps them (SessionState JSON under
 * RedisKeys.session, SET … PX sessionCacheTtlMs, session ids of 36 characters as a UUID, in two
 * tenants): `bytes_per_session`. Then the client event stream as the fetcher appends to it
 * (client.fetched entries, @cimd/contracts eventFields, XADD MAXLEN ~ EVENT_STREAM_MAXLEN):
 * `stream_bytes_per_event`. Removed at the end, whatever happens.
 */
const { createHash, randomUUID } = require('node:crypto');
const Redis = require('ioredis');
const { contracts, core } = require('../lib/dist');
const { validCorpus } = require('../lib/documents');

const STALE_RETENTION_MS = 7 * 86_400_000; // CIMD_STALE_RETENTION_SECONDS default
const LIFETIME_MS = 3_600_000; // CIMD_CACHE_DEFAULT_SECONDS: what most documents get
const REFRESH_AHEAD = 0.8;

/** A valid corpus document moved to a new path on its own host: `https://host/u<i>/path`. */
function variedClientId(original, i) {
  const u = new URL(original);
  return `${u.protocol}//${u.host}/u${i}${u.pathname === '/' ? '/' : u.pathname}${u.search}`;
}

/** What ClientFetchService.writeValid stores for a fetched document. */
function cacheEntry(template, i, now) {
  const clientId = variedClientId(template.json.client_id, i);
  const json = { ...template.json, client_id: clientId };
  const check = core.validateMetadataDocument(json, { clientId });
  if (!check.valid) throw new Error(`${template.file} is not valid at ${clientId}`);
  const raw = JSON.stringify(json, null, 2);
  const entry = {
    v: 1,
    client_id: clientId,
    status: 'valid',
    document: check.document,
    raw_hash: createHash('sha256').update(raw).digest('hex'),
    fetched_at: now,
    first_seen_at: now,
    refresh_at: now + LIFETIME_MS * REFRESH_AHEAD,
    expires_at: now + LIFETIME_MS,
    // Static hosting (GitHub Pages, S3, CDNs) sends both validators.
    etag: `"${(now + i).toString(16)}-${raw.length.toString(16)}"`,
    last_modified: new Date(now - 86_400_000).toUTCString(),
  };
  if (check.document.logo_uri !== undefined) {
    entry.logo = {
      sha256: createHash('sha256').update(check.document.logo_uri).digest('hex'),
      content_type: 'image/png',
    };
  }
  const warnings = [...new Set(check.warnings.map((w) => w.code))];
  if (warnings.length > 0) entry.warnings = warnings;
  return { clientId, entry, json: JSON.stringify(entry), documentBytes: JSON.stringify(check.document).length };
}

async function usedMemory(redis) {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

/** An empty database index (15 down to 1), so nothing else's keys share the measurement. */
async function emptyDatabase(redisUrl) {
  for (let db = 15; db >= 1; db--) {
    const redis = new Redis(redisUrl, { db });
    try {
      if ((await redis.dbsize()) === 0) return { redis, db };
    } catch {
      // fewer databases configured
    }
    redis.disconnect();
  }
  throw new Error('no empty Redis database index between 1 and 15');
}

module.exports = {
  name: 'redis_bytes_per_client',
  variedClientId,
  cacheEntry,
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const templates = validCorpus();
    const n = sizes.redisBytes.clients;
    // A prefix as long as the production one ("cimd"), so keys have the same length, but this
    // run's own: two runs at once (a test and a full run) never touch each other's keys.
    const keys = new contracts.RedisKeys((process.pid % 36 ** 4).toString(36).padStart(4, '0'));
    const { redis, db } = await emptyDatabase(stack.redisUrl);
    const written = [];
    try {
      log(`  writing ${n} entries into Redis database ${db}`);
      const now = Date.now();
      const before = await usedMemory(redis);
      let jsonBytes = 0;
      let documentBytes = 0;
      let keyBytes = 0;
      for (let i = 0; i < n; i += 1000) {
        const batch = redis.pipeline();
        for (let j = i; j < Math.min(n, i + 1000); j++) {
          const e = cacheEntry(templates[j % templates.length], j, now);
          const key = keys.clientEntry(e.clientId);
          batch.set(key, e.json, 'PX', e.entry.expires_at - now + STALE_RETENTION_MS);
          written.push(key);
          jsonBytes += e.json.length;
          documentBytes += e.documentBytes;
          keyBytes += key.length;
        }
        const results = await batch.exec();
        const failed = results.find(([err]) => err);
        if (failed) throw failed[0];
      }
      const after = await usedMemory(redis);
      const sample = [];
      for (let i = 0; i < Math.min(1000, n); i++) {
        sample.push(await redis.memory('USAGE', written[Math.floor((i * n) / Math.min(1000, n))], 'SAMPLES', 0));
      }
      const sampled = sample.reduce((a, b) => a + Number(b), 0) / sample.length;
      const deleted = await del(redis, written);
      written.length = 0;
      const afterDelete = await usedMemory(redis);
      const sessions = await sessionBytes(redis, keys, n, written, log);
      const stream = await streamBytes(redis, keys, Math.min(n, contracts.EVENT_STREAM_MAXLEN), written, log);
      return {
        metrics: {
          clients: n,
          bytes_per_client: Math.round((after - before) / n),
          freed_bytes_per_client: Math.round((after - afterDelete) / deleted),
          memory_usage_sample_bytes: Math.round(sampled),
          entry_json_bytes: Math.round(jsonBytes / n),
          document_json_bytes: Math.round(documentBytes / n),
          key_bytes: Math.round(keyBytes / n),
          sessions: n,
          bytes_per_session: sessions.bytesPerSession,
          session_json_bytes: sessions.jsonBytes,
          session_key_bytes: sessions.keyBytes,
          stream_events: stream.events,
          stream_bytes_per_event: stream.bytesPerEvent,
        },
        detail: { db, used_memory: { before, after, after_delete: afterDelete }, templates: templates.length },
      };
    } finally {
      if (written.length > 0) await del(redis, written).catch(() => undefined);
      redis.disconnect();
    }
  },
  target(m) {
    return { text: '≤ 1,536 bytes per client', met: m.bytes_per_client <= 1536 };
  },
};

/** `n` session states as SessionsService.keepInRedis writes them; bytes per session, then removed. */
async function sessionBytes(redis, keys, n, written, log) {
  log(`  writing ${n} session states`);
  const now = Date.now();
  const before = await usedMemory(redis);
  let jsonBytes = 0;
  let keyBytes = 0;
  for (let i = 0; i < n; i += 1000) {
    const batch = redis.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const sessionId = createHash('sha256').update(`s${j}`).digest('hex').slice(0, 36);
      const key = keys.session(j % 2 === 0 ? 'tenant-a' : 'tenant-b', sessionId);
      const state = {
        client_id: `https://app${j % 1000}.example.com/oauth/client-metadata.json`,
        created_at: now - j,
        expires_at: now + 30 * 86_400_000,
      };
      const json = JSON.stringify(state);
      batch.set(key, json, 'PX', core.sessionCacheTtlMs(state, now));
      written.push(key);
      jsonBytes += json.length;
      keyBytes += key.length;
    }
    const results = await batch.exec();
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }
  const after = await usedMemory(redis);
  await del(redis, written);
  written.length = 0;
  return {
    bytesPerSession: Math.round((after - before) / n),
    jsonBytes: Math.round(jsonBytes / n),
    keyBytes: Math.round(keyBytes / n),
  };
}

/** `n` client.fetched entries on a stream of this run's own, as the fetcher appends them; bytes per entry, then removed. */
async function streamBytes(redis, keys, n, written, log) {
  log(`  appending ${n} client events to a stream`);
  const before = await usedMemory(redis);
  written.push(keys.events);
  const now = Date.now();
  for (let i = 0; i < n; i += 1000) {
    const batch = redis.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const event = {
        id: randomUUID(),
        type: 'client.fetched',
        time: now + j,
        client_id: `https://app${j}.example.com/oauth/client-metadata.json`,
        version: 1,
        data: {
          revalidated: j % 2 === 0,
          raw_hash: createHash('sha256').update(`d${j}`).digest('hex'),
          expires_at: now + 3_600_000,
        },
      };
      batch.xadd(
        keys.events,
        'MAXLEN',
        '~',
        String(contracts.EVENT_STREAM_MAXLEN),
        '*',
        ...contracts.eventFields(event),
      );
    }
    const results = await batch.exec();
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }
  const after = await usedMemory(redis);
  await del(redis, written);
  written.length = 0;
  return { events: n, bytesPerEvent: Math.round((after - before) / n) };
}

async function del(redis, keys) {
  let n = 0;
  for (let i = 0; i < keys.length; i += 1000) n += await redis.del(...keys.slice(i, i + 1000));
  return n;
}
