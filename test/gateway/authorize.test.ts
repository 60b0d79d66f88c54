import { parseCacheEntry } from '@cimd/core';

import { waitFor } from '@cimd/testing';
import { FetchRequests } from '../../apps/gateway/src/clients/fetch-requests';
import { documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';

/**
 * Authorize checks end to end: the gateway, the fetcher process, real Redis and PostgreSQL,
 * a local HTTPS client host.
 */
let stack: GatewayStack;
let tenantKey: string;
// A 1x1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function serve(
  path: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  host?: string,
): string {
  const id = stack.clientId(path, host);
  stack.origin.json(path, documentFor(id, extra), headers);
  return id;
}

function check(body: Record<string, unknown>, tenant = 'acme', token?: string) {
  return stack.request('POST', `/v1/tenants/${tenant}/authorize/check`, { body, token: token ?? tenantKey });
}

function request(clientId: string, extra: Record<string, unknown> = {}) {
  const host = new URL(clientId).host;
  return { client_id: clientId, redirect_uri: `https://${host}/callback`, code_challenge_method: 'S256', ...extra };
}

async function setTimes(clientId: string, times: { refresh_at?: number; expires_at?: number }): Promise<void> {
  const key = stack.keys.clientEntry(clientId);
  const entry = parseCacheEntry(await stack.redis.get(key));
  if (!entry) throw new Error(`no entry for ${clientId}`);
  await stack.redis.set(key, JSON.stringify({ ...entry, ...times }), 'KEEPTTL');
}

beforeAll(async () => {
  stack = await startGatewayStack('authorize');
  expect((await stack.request('POST', '/v1/tenants', { body: { id: 'acme' } })).status).toBe(201);
  expect(
    (await stack.request('POST', '/v1/tenants', { body: { id: 'strict', policy: { deny_hosts: ['other.test'] } } }))
      .status,
  ).toBe(201);
  const key = await stack.request('POST', '/v1/tenants/acme/keys');
  tenantKey = key.body.key;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('authorize check', () => {
  it('a first check fetches (miss → fetched), a second is answered from the cache (hit)', async () => {
    stack.origin.route('/logo.png', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
    const id = serve('/vscode.json', { logo_uri: stack.clientId('/logo.png') }, { 'cache-control': 'max-age=600' });
    const first = await check(request(id));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      decision: 'allow',
      client: { client_id: id, host: 'client.test', name: 'Stack Test Client', redirect_host: 'client.test' },
      trust: { level: 'verified_origin' },
      cache: { status: 'fetched' },
    });
    expect(first.body.trust.warnings).toContain('client.first_seen_recently');
    const second = await check(request(id));
    expect(second.body).toMatchObject({ decision: 'allow', cache: { status: 'hit' } });
    expect(Date.parse(second.body.cache.expires_at) - Date.parse(second.body.cache.fetched_at)).toBe(600_000);
    expect(stack.origin.hits('/vscode.json')).toBe(1);

    // The logo URL points at the gateway's own copy, never at the client's host (SPEC-NOTES 21).
    const logoUrl: string = second.body.client.logo_url;
    expect(
      logoUrl.startsWith(`${stack.url.replace('127.0.0.1', '127.0.0.1')}/v1/logos/`) || logoUrl.includes('/v1/logos/'),
    ).toBe(true);
    expect(logoUrl).not.toContain('client.test');
    const logo = await fetch(`${stack.url}/v1/logos/${logoUrl.split('/').pop() ?? ''}`);
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await logo.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('denies a redirect URI the document does not register', async () => {
    const id = serve('/mismatch.json');
    const r = await check(request(id, { redirect_uri: 'https://evil.example/callback' }));
    expect(r.body).toMatchObject({ decision: 'deny', error: 'invalid_request', reason: 'redirect_uri.not_registered' });
  });

  it('allows a registered loopback redirect on any port (SPEC-NOTES 16)', async () => {
    const id = serve('/loopback.json');
    const r = await check(request(id, { redirect_uri: 'http://127.0.0.1:53682/callback' }));
    expect(r.body).toMatchObject({ decision: 'allow', trust: { level: 'unverified' } });
  });

  it('denies an impersonation: a document at one host claiming another client_id (SPEC-NOTES 9)', async () => {
    const id = stack.clientId('/impostor.json');
    stack.origin.json('/impostor.json', documentFor('https://vscode.dev/oauth/client-metadata.json'));
    const r = await check(request(id));
    expect(r.body).toMatchObject({ decision: 'deny', error: 'invalid_client', reason: 'document.invalid' });
    expect(r.body.error_description).toContain('is not the URL it was fetched from');
    expect(r.body.cache).toBeUndefined();
  });

  it('never fetches a client_id the tenant policy denies', async () => {
    const id = serve('/denied.json', {}, {}, 'other.test');
    const r = await check(request(id), 'strict', stack.adminToken);
    expect(r.body).toMatchObject({ decision: 'deny', error: 'unauthorized_client', reason: 'policy.host_denied' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stack.origin.hits('/denied.json')).toBe(0);
  });

  it('denies a client_id that breaks the URL rules, without fetching', async () => {
    const r = await check(request(stack.clientId('/a/../b.json')));
    expect(r.body).toMatchObject({ decision: 'deny', error: 'invalid_client', reason: 'client_id.dot_segment' });
  });

  it('denies at once a client whose document is gone (404)', async () => {
    const id = stack.clientId('/nothing-here.json');
    const r = await check(request(id));
    expect(r.body).toMatchObject({ decision: 'deny', error: 'invalid_client', reason: 'document.gone' });
    expect(r.body.error_description).toContain('disappeared');
    const again = await check(request(id));
    expect(again.body.reason).toBe('document.gone');
    expect(stack.origin.hits('/nothing-here.json')).toBe(1);
  });

  it('past refresh_at: answers from the cache and refreshes in the background (refresh-ahead)', async () => {
    const id = serve('/refresh.json', {}, { 'cache-control': 'max-age=600' });
    await check(request(id));
    await setTimes(id, { refresh_at: Date.now() - 1000 });
    const r = await check(request(id));
    expect(r.body).toMatchObject({ decision: 'allow', cache: { status: 'refreshing' } });
    await waitFor(() => stack.origin.hits('/refresh.json') === 2, 'the background refresh');
  });

  it('expired while the origin fails: serves the last good copy as stale, with a warning', async () => {
    const id = serve('/flaky.json');
    await check(request(id));
    stack.origin.route('/flaky.json', (_req, res) => res.writeHead(503).end());
    await setTimes(id, { refresh_at: Date.now() - 2000, expires_at: Date.now() - 1000 });
    const r = await check(request(id));
    expect(r.body).toMatchObject({ decision: 'allow', cache: { status: 'stale' } });
    expect(r.body.trust.warnings).toContain('client.stale');
  });

  it('stale while the origin fails: a burst of checks asks for one refresh, not one per check', async () => {
    const id = serve('/flaky-popular.json');
    await check(request(id));
    stack.origin.route('/flaky-popular.json', (_req, res) => res.writeHead(503).end());
    await setTimes(id, { refresh_at: Date.now() - 2000, expires_at: Date.now() - 1000 });
    expect((await check(request(id))).body.cache.status).toBe('stale');
    const fetches = stack.app.get(FetchRequests);
    const asked = jest.spyOn(fetches, 'request');
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, () => check(request(id))));
      expect(answers.map((a) => (a.body as { cache: { status: string } }).cache.status)).toEqual(
        Array(40).fill('stale'),
      );
      // The first of them asks for a refresh; the other 39 find its ask standing.
      expect(asked.mock.calls.filter(([clientId]) => clientId === id).length).toBeLessThanOrEqual(1);
    } finally {
      asked.mockRestore();
    }
  });

  it('expired beyond the stale-if-error window: pending, never a stale allow', async () => {
    const id = serve('/long-gone-origin.json');
    await check(request(id));
    stack.origin.route('/long-gone-origin.json', (_req, res) => res.writeHead(503).end());
    await setTimes(id, { refresh_at: Date.now() - 7200_000, expires_at: Date.now() - 7200_000 });
    const r = await check(request(id));
    expect(r.body).toMatchObject({ decision: 'pending', error: 'temporarily_unavailable', reason: 'client.pending' });
  });

  it('an origin slower than the wait: pending with temporarily_unavailable', async () => {
    const id = stack.clientId('/slow.json');
    const body = JSON.stringify(documentFor(id));
    stack.origin.route('/slow.json', (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), 4000);
    });
    const r = await check(request(id));
    expect(r.body).toMatchObject({ decision: 'pending', error: 'temporarily_unavailable' });
  });

  it('500 concurrent checks for one uncached client: one request to its origin, one answer for all', async () => {
    const id = stack.clientId('/herd.json');
    const body = JSON.stringify(documentFor(id));
    stack.origin.route('/herd.json', (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), 200);
    });
    const answers = await Promise.all(Array.from({ length: 500 }, () => check(request(id))));
    expect(stack.origin.hits('/herd.json')).toBe(1);
    const decisions = new Set(answers.map((a) => `${a.status} ${a.body.decision} ${a.body.client?.name}`));
    expect([...decisions]).toEqual(['200 allow Stack Test Client']);
  }, 60_000);

  it('GET /v1/clients shows the cached record; POST /v1/clients/refresh (admin) fetches now', async () => {
    const id = serve('/record.json');
    await check(request(id));
    const record = await stack.request('GET', `/v1/clients?client_id=${encodeURIComponent(id)}`, { token: tenantKey });
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      client_id: id,
      status: 'valid',
      freshness: 'fresh',
      document: { client_name: 'Stack Test Client' },
    });
    const refresh = await stack.request('POST', '/v1/clients/refresh', { body: { client_id: id } });
    expect(refresh.status).toBe(202);
    await waitFor(() => stack.origin.hits('/record.json') === 2, 'the admin refresh');
    expect(
      (await stack.request('POST', '/v1/clients/refresh', { body: { client_id: id }, token: tenantKey })).status,
    ).toBe(403);
    expect(
      (await stack.request('GET', `/v1/clients?client_id=${encodeURIComponent(stack.clientId('/never.json'))}`)).status,
    ).toBe(404);
  });

  it('records every client seen in the PostgreSQL registry, from the event stream', async () => {
    const id = serve('/registry.json');
    await check(request(id));
    const { Client } = await import('pg');
    const db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const row = await waitFor(
        async () =>
          (await db.query('SELECT * FROM clients WHERE client_id = $1', [id])).rows[0] as
            Record<string, unknown> | undefined,
        'the registry row',
      );
      expect(row).toMatchObject({ client_id: id, status: 'valid', last_event: 'client.fetched' });
    } finally {
      await db.end();
    }
  });
});
