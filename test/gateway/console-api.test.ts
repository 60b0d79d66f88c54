import * as grpc from '@grpc/grpc-js';
import type { grpc as messages } from '@cimd/contracts';
import { ATTEMPT_LOG } from '@cimd/store';
import { waitFor } from '@cimd/testing';
import { documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';
import { loadGatewayClient, metadataFor, ok, unaryCall } from '../support/grpc-client';

/**
 * What the API gained for the operator console, end to end (gateway, fetcher, HTTPS client
 * host, Redis, PostgreSQL): the reason and retry hint of a `pending` decision, the attempt log
 * of a client that has no document, the client listings (paged, searched, filtered, per tenant),
 * one client explained, a client's events, the policy validation and dry run, and the event
 * stream.
 */
let stack: GatewayStack;
const keys: Record<string, string> = {};
let unresolvable: string;
let good: string;
let broken: string;
let partner: string;
let globexOnly: string;

async function check(tenant: string, clientId: string, redirectUri: string, token = stack.adminToken) {
  const res = await stack.request('POST', `/v1/tenants/${tenant}/authorize/check`, {
    body: { client_id: clientId, redirect_uri: redirectUri, code_challenge_method: 'S256' },
    token,
  });
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

type Listing = { items: { client_id: string }[] };
const listed = (body: unknown) => (body as Listing).items.map((c) => c.client_id);

const q = (clientId: string) => encodeURIComponent(clientId);

beforeAll(async () => {
  stack = await startGatewayStack('console-api');
  for (const tenant of ['acme', 'globex']) {
    expect((await stack.request('POST', '/v1/tenants', { body: { id: tenant } })).status).toBe(201);
    keys[tenant] = (await stack.request('POST', `/v1/tenants/${tenant}/keys`)).body.key;
  }
  const port = stack.origin.port;
  good = stack.clientId('/good.json');
  stack.origin.json('/good.json', documentFor(good), { 'cache-control': 'max-age=600' });
  broken = stack.clientId('/broken.json');
  stack.origin.json('/broken.json', { client_id: broken, redirect_uris: 'https://client.test/cb' });
  partner = stack.clientId('/partner.json', 'other.test');
  stack.origin.json('/partner.json', documentFor(partner), { 'cache-control': 'max-age=600' });
  globexOnly = stack.clientId('/globex.json', 'other.test');
  stack.origin.json('/globex.json', documentFor(globexOnly));
  unresolvable = `https://nowhere.invalid:${port}/client.json`;

  expect((await check('acme', good, `https://client.test:${port}/callback`)).decision).toBe('allow');
  expect((await check('acme', broken, 'https://client.test/cb')).reason).toBe('document.invalid');
  expect((await check('acme', partner, `https://other.test:${port}/callback`)).decision).toBe('allow');
  expect((await check('globex', globexOnly, `https://other.test:${port}/callback`)).decision).toBe('allow');
  await waitFor(
    async () => (await stack.request('GET', '/v1/tenants/acme/clients')).body?.total === 3,
    "acme's clients to be recorded",
    10_000,
  );
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a client whose host does not resolve (SPEC-NOTES 8, 15)', () => {
  let pending: Record<string, unknown>;

  beforeAll(async () => {
    pending = await check('acme', unresolvable, 'https://nowhere.invalid/cb');
  });

  it('the pending decision carries fetch.dns_failed and a retry hint', () => {
    expect(pending).toMatchObject({
      decision: 'pending',
      error: 'temporarily_unavailable',
      reason: 'client.pending',
      fetch_error: { code: 'fetch.dns_failed' },
    });
    expect(pending.retry_after_seconds).toEqual(expect.any(Number));
    expect(pending.retry_after_seconds).toBeGreaterThanOrEqual(1);
    expect(pending.error_description).toContain('fetch.dns_failed');
  });

  it('over gRPC too', async () => {
    const Gateway = loadGatewayClient();
    const client = new Gateway(`127.0.0.1:${stack.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const answer = ok(
        await unaryCall<messages.CheckAuthorizationResponse__Output>(
          client,
          'CheckAuthorization',
          { tenant: 'acme', client_id: unresolvable, redirect_uri: 'https://nowhere.invalid/cb' },
          metadataFor(keys.acme!),
        ),
      );
      expect(answer).toMatchObject({ decision: 'pending', fetch_error: { code: 'fetch.dns_failed' } });
      expect(answer.retry_after_seconds).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }
  });

  it('client authentication answers temporarily_unavailable with the same fetch_error and hint, over HTTP and gRPC', async () => {
    const http = await stack.request('POST', '/v1/tenants/acme/clients/authenticate', {
      token: keys.acme,
      body: { client_id: unresolvable },
    });
    expect(http.status).toBe(200);
    expect(http.body).toMatchObject({
      authenticated: false,
      error: 'temporarily_unavailable',
      reason: 'client.pending',
      fetch_error: { code: 'fetch.dns_failed' },
    });
    expect(http.body.retry_after_seconds).toBeGreaterThanOrEqual(1);
    const Gateway = loadGatewayClient();
    const client = new Gateway(`127.0.0.1:${stack.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const answer = ok(
        await unaryCall<messages.AuthenticateClientResponse__Output>(
          client,
          'AuthenticateClient',
          { tenant: 'acme', client_id: unresolvable },
          metadataFor(keys.acme!),
        ),
      );
      expect(answer).toMatchObject({ error: 'temporarily_unavailable', fetch_error: { code: 'fetch.dns_failed' } });
      expect(answer.retry_after_seconds).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }
  });

  it('GET /v1/clients says why it is not cached; GET /v1/clients/attempts lists the attempts, never a document', async () => {
    const record = await stack.request('GET', `/v1/clients?client_id=${q(unresolvable)}`, { token: keys.acme });
    expect(record.status).toBe(404);
    expect(record.body.error_description).toContain('fetch.dns_failed');

    const res = await stack.request('GET', `/v1/clients/attempts?client_id=${q(unresolvable)}`, { token: keys.acme });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ client_id: unresolvable, cached: false, health: 'failing' });
    expect(res.body).not.toHaveProperty('document');
    expect(res.body.attempts[0]).toMatchObject({
      outcome: 'transient',
      code: 'fetch.dns_failed',
      rule: expect.stringContaining('did not resolve'),
      next: { kind: expect.stringMatching(/^(retry|cooldown)$/) },
    });
    expect(res.body.next_attempt.at).toBe(res.body.attempts[0].next.at);
  });

  it('the attempt log is bounded and expires (a key with a time to live)', async () => {
    const key = stack.keys.fetchAttempts(unresolvable);
    expect(await stack.redis.llen(key)).toBeLessThanOrEqual(ATTEMPT_LOG.perClient);
    const ttl = await stack.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(ATTEMPT_LOG.ttlMs);
    expect(await stack.redis.zscore(stack.keys.failingClients, unresolvable)).not.toBeNull();
  });

  it('a client never fetched and never attempted: still a plain 404', async () => {
    const res = await stack.request('GET', `/v1/clients/attempts?client_id=${q(stack.clientId('/never.json'))}`);
    expect(res.status).toBe(404);
  });
});

describe('client listings', () => {
  beforeAll(async () => {
    await waitFor(
      async () => (await stack.request('GET', '/v1/tenants/acme/clients')).body?.total === 4,
      'the unresolvable client to be recorded',
      10_000,
    );
  });

  it("GET /v1/tenants/{t}/clients: the tenant's clients with its last decision, paged", async () => {
    const first = await stack.request('GET', '/v1/tenants/acme/clients?limit=2', { token: keys.acme });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ tenant: 'acme', total: 4, limit: 2, offset: 0 });
    expect(first.body.items).toHaveLength(2);
    const second = await stack.request('GET', '/v1/tenants/acme/clients?limit=2&offset=2', { token: keys.acme });
    const all = [...first.body.items, ...second.body.items].map((c: { client_id: string }) => c.client_id);
    expect(new Set(all)).toEqual(new Set([good, broken, partner, unresolvable]));
    const brokenRow = [...first.body.items, ...second.body.items].find(
      (c: { client_id: string }) => c.client_id === broken,
    );
    expect(brokenRow).toMatchObject({ health: 'invalid', last_decision: 'deny', last_reason: 'document.invalid' });
  });

  it.each([
    ['failing', () => [unresolvable]],
    ['invalid', () => [broken]],
    ['valid', () => [good, partner]],
  ])('status=%s filters by health', async (status, expected) => {
    const res = await stack.request('GET', `/v1/tenants/acme/clients?status=${status}`);
    expect(res.status).toBe(200);
    expect(listed(res.body).sort()).toEqual(expected().sort());
  });

  it('q searches the client_id and its host', async () => {
    const res = await stack.request('GET', '/v1/tenants/acme/clients?q=OTHER.TEST');
    expect(listed(res.body)).toEqual([partner]);
  });

  it('a tenant key sees only its tenant: 403 on another tenant and on the fleet listing', async () => {
    expect((await stack.request('GET', '/v1/tenants/globex/clients', { token: keys.acme })).status).toBe(403);
    expect((await stack.request('GET', '/v1/clients/list', { token: keys.acme })).status).toBe(403);
    const own = await stack.request('GET', '/v1/tenants/globex/clients', { token: keys.globex });
    expect(listed(own.body)).toEqual([globexOnly]);
  });

  it('GET /v1/clients/list (admin): every client of the fleet, with live sessions', async () => {
    expect(
      (
        await stack.request('POST', '/v1/tenants/globex/sessions', {
          body: { session_id: 'list-session', client_id: globexOnly },
        })
      ).status,
    ).toBe(201);
    const res = await stack.request('GET', '/v1/clients/list?limit=100');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(5);
    const row = (res.body as Listing).items.find((c) => c.client_id === globexOnly);
    expect(row).toMatchObject({ health: 'valid', live_sessions: 1, host: `other.test:${stack.origin.port}` });
  });

  it.each([
    ['status=nope', /status must be one of/],
    ['limit=0', /limit must be a whole number from 1 to 100/],
    ['offset=-1', /offset must be/],
    ['q=a&q=b', /may be given once/],
  ])('bad parameters (%s) are a 400 naming the problem', async (query, description) => {
    const res = await stack.request('GET', `/v1/tenants/acme/clients?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error_description).toMatch(description);
  });
});

describe('one client explained', () => {
  it('an invalid document: the decision, the rule explained with its field, the refused body', async () => {
    const res = await stack.request('GET', `/v1/tenants/acme/clients/inspect?client_id=${q(broken)}`, {
      token: keys.acme,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      health: 'invalid',
      decision: { decision: 'deny', reason: 'document.invalid' },
      request: { redirect_uri: 'https://client.test/cb', from: 'last_check' },
      document: { kind: 'refused' },
    });
    expect(JSON.parse(res.body.document.text)).toMatchObject({ redirect_uris: 'https://client.test/cb' });
    expect(res.body.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'document.invalid_field_type',
          severity: 'error',
          field: 'redirect_uris',
          summary: expect.stringContaining('wrong JSON type'),
        }),
      ]),
    );
    // The refused body is never served as a document (SPEC-NOTES 15).
    const record = await stack.request('GET', `/v1/clients?client_id=${q(broken)}`);
    expect(record.body.document).toBeUndefined();
  });

  it('a given redirect_uri is the one decided on', async () => {
    const res = await stack.request(
      'GET',
      `/v1/tenants/acme/clients/inspect?client_id=${q(good)}&redirect_uri=${q('https://evil.example/cb')}`,
    );
    expect(res.body.decision).toMatchObject({ decision: 'deny', reason: 'redirect_uri.not_registered' });
    expect(res.body.request.from).toBe('given');
    expect((res.body as { timeline: { what: string }[] }).timeline.map((p) => p.what)).toEqual(
      expect.arrayContaining(['fetched', 'refresh_due', 'expires', 'now']),
    );
  });

  it('a client_id that is not a URL: 400', async () => {
    const res = await stack.request('GET', '/v1/tenants/acme/clients/inspect?client_id=not%20a%20url');
    expect(res.status).toBe(400);
  });
});

describe('policy validation and dry run', () => {
  it('validate: 200 {valid: false, errors} for a bad policy, the effective policy for a good one', async () => {
    const bad = await stack.request('POST', '/v1/tenants/acme/policy/validate', {
      body: { deny_hosts: ['not a host'], nope: 1 },
      token: keys.acme,
    });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    const errors = (bad.body as { errors: string[] }).errors.join('\n');
    expect(errors).toMatch(/deny_hosts\[0\]: must be a host name/);
    expect(errors).toMatch(/unknown field\(s\) nope/);
    const good = await stack.request('POST', '/v1/tenants/acme/policy/validate', { body: {} });
    expect(good.body).toMatchObject({ valid: true, errors: [], policy: { allow_loopback_redirects: true } });
  });

  it('dry run: which clients would now be refused, and why; nothing saved', async () => {
    const res = await stack.request('POST', '/v1/tenants/acme/policy/dry-run', {
      body: { deny_hosts: ['other.test'] },
      token: keys.acme,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenant: 'acme', current_version: 1, evaluated: 4, truncated: false });
    expect(res.body.counts).toMatchObject({ denied: 1 });
    expect(res.body.rows[0]).toMatchObject({
      client_id: partner,
      change: 'denied',
      current: { decision: 'allow' },
      proposed: { decision: 'deny', reason: 'policy.host_denied' },
    });
    expect((await stack.request('GET', '/v1/tenants/acme/policy')).body.version).toBe(1);
  });

  it('dry run of an invalid policy: 400 as PUT would answer; another tenant: 403', async () => {
    const res = await stack.request('POST', '/v1/tenants/acme/policy/dry-run', { body: { deny_hosts: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.error_description).toMatch(/invalid policy: deny_hosts/);
    const other = await stack.request('POST', '/v1/tenants/globex/policy/dry-run', { body: {}, token: keys.acme });
    expect(other.status).toBe(403);
  });
});

describe('events', () => {
  it('the event stream (server-sent events) delivers a new event live; a client’s events can be read', async () => {
    const abort = new AbortController();
    const res = await fetch(`${stack.url}/v1/tenants/globex/events/stream`, {
      headers: { authorization: `Bearer ${keys.globex}` },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const received = (async () => {
      while (!text.includes('event: client.changed')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    })();
    // globex holds a session of the client; its name changes: globex is told.
    stack.origin.json('/globex.json', documentFor(globexOnly, { client_name: 'Renamed' }));
    expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: globexOnly } })).status).toBe(202);
    await Promise.race([received, new Promise((_, reject) => setTimeout(() => reject(new Error(text)), 15_000))]);
    abort.abort();
    const frame = text.slice(text.indexOf('id: '));
    const data = JSON.parse(/data: (.*)\n/.exec(frame)![1]!);
    expect(data).toMatchObject({ tenant: 'globex', type: 'client.changed', client_id: globexOnly });

    const events = await stack.request('GET', `/v1/tenants/globex/clients/events?client_id=${q(globexOnly)}`, {
      token: keys.globex,
    });
    expect(events.status).toBe(200);
    expect(events.body.events[0]).toMatchObject({ id: data.id, type: 'client.changed' });
    expect(
      (await stack.request('GET', `/v1/tenants/globex/clients/events?client_id=${q(globexOnly)}`, { token: keys.acme }))
        .status,
    ).toBe(403);
  });

  it('the stream refuses a bad position, another tenant, and no token', async () => {
    expect((await stack.request('GET', '/v1/tenants/acme/events/stream?after=x')).status).toBe(400);
    expect((await stack.request('GET', '/v1/tenants/globex/events/stream', { token: keys.acme })).status).toBe(403);
    expect((await stack.request('GET', '/v1/tenants/acme/events/stream', { token: null })).status).toBe(401);
  });
});

describe('who is signed in, and the OpenAPI document', () => {
  it("GET /v1/whoami: the key's tenant, or the admin with every tenant", async () => {
    expect((await stack.request('GET', '/v1/whoami', { token: keys.acme })).body).toEqual({
      kind: 'tenant',
      tenant: 'acme',
    });
    const admin = await stack.request('GET', '/v1/whoami');
    expect(admin.body.kind).toBe('admin');
    expect((admin.body as { tenants: { id: string }[] }).tenants.map((t) => t.id)).toEqual(['acme', 'globex']);
    expect(admin.body.tenants[0]).toMatchObject({ policy_version: 1 });
  });

  it('every new route is in the OpenAPI document; the console itself is not', async () => {
    const doc = (await (await fetch(`${stack.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /v1/clients/attempts',
        'GET /v1/clients/list',
        'GET /v1/tenants/{tenant}/clients',
        'GET /v1/tenants/{tenant}/clients/inspect',
        'GET /v1/tenants/{tenant}/clients/events',
        'POST /v1/tenants/{tenant}/policy/validate',
        'POST /v1/tenants/{tenant}/policy/dry-run',
        'GET /v1/tenants/{tenant}/events/stream',
        'GET /v1/whoami',
      ]),
    );
    expect(operations.filter((o) => o.includes('console'))).toEqual([]);
  });
});
