import { parseCacheEntry } from '@cimd/core';

import { waitFor } from '@cimd/testing';
import { documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';

/**
 * The gateway's in-process copy of cache entries (CIMD_LOCAL_CACHE_MS, on by default, off in
 * the other tests): checks are answered from it, and a tombstone still reaches the replica
 * within a second — at once through the fetcher's notice, and within the copy's lifetime when
 * the notice is lost.
 */
let stack: GatewayStack;
let tenantKey: string;
const TTL_MS = 1000;

function check(clientId: string) {
  const host = new URL(clientId).host;
  return stack.request('POST', '/v1/tenants/acme/authorize/check', {
    token: tenantKey,
    body: { client_id: clientId, redirect_uri: `https://${host}/callback`, code_challenge_method: 'S256' },
  });
}

async function localHits(): Promise<number> {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  return Number(/^cimd_client_local_cache_lookups_total\{result="hit"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

beforeAll(async () => {
  stack = await startGatewayStack('local-cache', {
    gatewayEnv: { CIMD_LOCAL_CACHE_MS: String(TTL_MS) },
    // One 404 is enough to declare a client gone here: the confirmation rule is tested elsewhere.
    fetcherEnv: { CIMD_GONE_CONFIRM_DELAY_MS: '0' },
  });
  expect((await stack.request('POST', '/v1/tenants', { body: { id: 'acme' } })).status).toBe(201);
  tenantKey = (await stack.request('POST', '/v1/tenants/acme/keys')).body.key;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the in-process copy of cache entries', () => {
  it('answers repeated checks without reading Redis each time', async () => {
    const id = stack.clientId('/repeated.json');
    stack.origin.json('/repeated.json', documentFor(id), { 'cache-control': 'max-age=600' });
    expect((await check(id)).body).toMatchObject({ decision: 'allow', cache: { status: 'fetched' } });
    const before = await localHits();
    await waitFor(async () => {
      const r = await check(id);
      expect(r.body).toMatchObject({ decision: 'allow', cache: { status: 'hit' } });
      return (await localHits()) > before;
    }, 'a check answered from the local copy');
  });

  it('drops the copy when the fetcher announces that the client is gone', async () => {
    const id = stack.clientId('/vanishing.json');
    stack.origin.json('/vanishing.json', documentFor(id), { 'cache-control': 'max-age=600' });
    await check(id);
    expect((await check(id)).body.decision).toBe('allow'); // read from Redis and kept
    stack.origin.route('/vanishing.json', (_req, res) => res.writeHead(404).end());
    expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: id } })).status).toBe(202);
    await waitFor(
      async () => parseCacheEntry(await stack.redis.get(stack.keys.clientEntry(id)))?.status === 'gone',
      'the fetcher to write the tombstone',
    );
    await waitFor(async () => (await check(id)).body.decision === 'deny', 'the tombstone to reach the gateway');
    expect((await check(id)).body).toMatchObject({ decision: 'deny', reason: 'document.gone' });
  });

  it('serves no copy older than its lifetime, even when the notice is lost', async () => {
    const id = stack.clientId('/silent.json');
    stack.origin.json('/silent.json', documentFor(id), { 'cache-control': 'max-age=600' });
    await check(id);
    expect((await check(id)).body.decision).toBe('allow');
    // A tombstone written with no fetch-done notice (as if the notice were lost on the way).
    const key = stack.keys.clientEntry(id);
    const entry = parseCacheEntry(await stack.redis.get(key));
    const now = Date.now();
    const gone = {
      v: 1,
      client_id: id,
      status: 'gone',
      errors: [{ code: 'fetch.gone', message: 'the document answered 404' }],
      fetched_at: now,
      first_seen_at: entry?.first_seen_at ?? now,
      refresh_at: now + 60_000,
      expires_at: now + 60_000,
    };
    await stack.redis.set(key, JSON.stringify(gone), 'KEEPTTL');
    // Any copy read before the write has expired a lifetime later; any read after it sees the tombstone.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 20));
    expect((await check(id)).body).toMatchObject({ decision: 'deny', reason: 'document.gone' });
  });
});

/**
 * Decisions remembered from the copies (AuthorizeService): an identical check made on the same
 * copies of entry and policy gets the same answer without deciding again, and whatever the
 * answer was made from ends it at once.
 */
describe('remembered decisions', () => {
  async function remembered(): Promise<number> {
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    return Number(/^cimd_authorize_remembered_answers_total (\d+)/m.exec(text)?.[1] ?? 0);
  }

  /** Checks until one is answered from a remembered decision; that answer. */
  async function rememberedAnswer(id: string) {
    const before = await remembered();
    let answer: Awaited<ReturnType<typeof check>> | undefined;
    await waitFor(async () => {
      answer = await check(id);
      return (await remembered()) > before;
    }, 'a check answered from a remembered decision');
    return answer!;
  }

  it('gives the answer of an identical check again, byte for byte', async () => {
    const id = stack.clientId('/remembered.json');
    stack.origin.json('/remembered.json', documentFor(id), { 'cache-control': 'max-age=600' });
    await check(id);
    const decided = await check(id);
    const again = await rememberedAnswer(id);
    expect(again.status).toBe(200);
    expect(again.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(again.body).toEqual(decided.body);
    expect(again.body).toMatchObject({ decision: 'allow', cache: { status: 'hit' } });
  });

  it('ends with a policy change at once', async () => {
    const id = stack.clientId('/policy-change.json');
    stack.origin.json('/policy-change.json', documentFor(id), { 'cache-control': 'max-age=600' });
    await check(id);
    expect((await rememberedAnswer(id)).body.decision).toBe('allow');
    const host = new URL(id).hostname;
    expect((await stack.request('PUT', '/v1/tenants/acme/policy', { body: { deny_hosts: [host] } })).status).toBe(200);
    try {
      expect((await check(id)).body).toMatchObject({ decision: 'deny', reason: 'policy.host_denied' });
    } finally {
      await stack.request('PUT', '/v1/tenants/acme/policy', { body: {} });
    }
    expect((await check(id)).body.decision).toBe('allow');
  });

  it('ends with a new entry at once: the document changed and was fetched again', async () => {
    const id = stack.clientId('/renamed.json');
    stack.origin.json(
      '/renamed.json',
      { ...documentFor(id), client_name: 'Before' },
      { 'cache-control': 'max-age=600' },
    );
    await check(id);
    expect((await rememberedAnswer(id)).body.client.name).toBe('Before');
    stack.origin.json(
      '/renamed.json',
      { ...documentFor(id), client_name: 'After' },
      { 'cache-control': 'max-age=600' },
    );
    const fetchedAt = parseCacheEntry(await stack.redis.get(stack.keys.clientEntry(id)))?.fetched_at ?? 0;
    expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: id } })).status).toBe(202);
    await waitFor(
      async () => (parseCacheEntry(await stack.redis.get(stack.keys.clientEntry(id)))?.fetched_at ?? 0) > fetchedAt,
      'the fetcher to write the new entry',
    );
    // The fetcher's notice drops the copy as it writes: the next check decides on the new entry.
    await waitFor(async () => (await check(id)).body.client.name === 'After', 'the new entry to be answered');
  });

  it('ends when the entry is due for refresh, though the copy is still held', async () => {
    const id = stack.clientId('/due-soon.json');
    stack.origin.json('/due-soon.json', documentFor(id), { 'cache-control': 'max-age=600' });
    await check(id);
    // An entry written with no notice (as a lost notice leaves it), due for refresh well inside the copy's lifetime.
    const key = stack.keys.clientEntry(id);
    const entry = parseCacheEntry(await stack.redis.get(key));
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 20));
    const dueAt = Date.now() + 400;
    await stack.redis.set(key, JSON.stringify({ ...entry, refresh_at: dueAt }), 'KEEPTTL');
    expect((await check(id)).body.cache.status).toBe('hit'); // read from Redis now, and kept for a second
    const before = await remembered();
    expect((await check(id)).body.cache.status).toBe('hit');
    expect(await remembered()).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt - Date.now()) + 20));
    // Still inside the copy's lifetime: without the decision's own time this would be the remembered "hit".
    expect((await check(id)).body.cache.status).toBe('refreshing');
  });
});
