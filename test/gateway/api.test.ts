import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client, escapeIdentifier } from 'pg';
import { dropDatabase } from '../support/databases';
import { createDataSource } from '../../apps/gateway/src/database/data-source';
import { migrate } from '../../apps/gateway/src/database/migrate';
import { MIGRATIONS } from '../../apps/gateway/src/database/migrations';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway-config';
import { ensureDatabase } from '../../apps/gateway/src/database/ensure-database';
import { FETCH_QUEUE } from '@cimd/contracts';
import { REDIS } from '@cimd/store';
import { getQueueToken } from '@nestjs/bullmq';
import { createGatewayApp } from '../../apps/gateway/src/main';
import { ADMIN_TOKEN, documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';

/**
 * The HTTP API's contract, end to end (gateway, fetcher process, real Redis and PostgreSQL):
 * authentication, tenants and keys, policies, bad input (never a 500), tenant isolation,
 * operations endpoints, and the schema coming only from migrations.
 */
const ROOT = join(__dirname, '..', '..');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN_KEY_ID = '00000000-0000-4000-8000-000000000000';
const CHECK_ROUTE = '/v1/tenants/:tenant/authorize/check';

type Res = Awaited<ReturnType<GatewayStack['request']>>;
type RequestOptions = Parameters<GatewayStack['request']>[2];

let stack: GatewayStack;
let db: Client;
/** Keys of the two tenants the isolation tests use; `revoked` was revoked in beforeAll. */
const keys = { alpha: '', alphaId: '', beta: '', betaId: '', revoked: '' };
/** Created by tests, dropped in afterAll. */
const extraDatabases: string[] = [];

function databaseUrl(name: string): string {
  const u = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cimd');
  u.pathname = `/${name}`;
  return u.toString();
}

/** Every refusal is exactly `{ error, error_description }`, two non-empty strings, as JSON. */
function expectError(res: Res, status: number | number[], error?: string, description?: RegExp | string): void {
  const statuses = Array.isArray(status) ? status : [status];
  expect({ status: res.status, body: res.body as unknown }).toEqual({
    status: statuses.includes(res.status) ? res.status : statuses[0],
    body: { error: error ?? expect.any(String), error_description: expect.any(String) },
  });
  expect(res.body.error).not.toBe('');
  expect(res.body.error_description).not.toBe('');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  if (description !== undefined) expect(res.body.error_description).toMatch(description);
}

function check(tenant: string, body: unknown, token: string | null = keys.alpha): Promise<Res> {
  return stack.request('POST', `/v1/tenants/${tenant}/authorize/check`, { body, token });
}

function checkBody(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    redirect_uri: `https://${new URL(clientId).host}/callback`,
    code_challenge_method: 'S256',
    ...extra,
  };
}

async function createKey(tenant: string): Promise<{ id: string; key: string }> {
  const res = await stack.request('POST', `/v1/tenants/${tenant}/keys`);
  expect(res.status).toBe(201);
  return res.body as { id: string; key: string };
}

async function policyVersion(tenant: string): Promise<number> {
  const res = await stack.request('GET', `/v1/tenants/${tenant}/policy`);
  expect(res.status).toBe(200);
  return res.body.version as number;
}

beforeAll(async () => {
  stack = await startGatewayStack('api');
  db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  expect((await stack.request('POST', '/v1/tenants', { body: { id: 'alpha' } })).status).toBe(201);
  const beta = await stack.request('POST', '/v1/tenants', {
    body: { id: 'beta', policy: { deny_hosts: ['beta-secret.example'] } },
  });
  expect(beta.status).toBe(201);
  const a = await createKey('alpha');
  const b = await createKey('beta');
  Object.assign(keys, { alpha: a.key, alphaId: a.id, beta: b.key, betaId: b.id });
  const revoked = await createKey('alpha');
  expect((await stack.request('GET', '/v1/tenants/alpha/policy', { token: revoked.key })).status).toBe(200);
  expect((await stack.request('DELETE', `/v1/tenants/alpha/keys/${revoked.id}`)).status).toBe(204);
  keys.revoked = revoked.key;
}, 60_000);

afterAll(async () => {
  await db?.end();
  for (const url of extraDatabases) await dropDatabase(url);
  await stack?.stop();
}, 30_000);

describe('authentication', () => {
  it.each<{ case: string; token: () => string | null; headers: Record<string, string> }>([
    { case: 'no Authorization header', token: () => null, headers: {} },
    { case: 'Basic credentials', token: () => null, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } },
    { case: '"Bearer" without a token', token: () => null, headers: { authorization: 'Bearer' } },
    { case: 'an unknown token', token: () => 'not-a-real-token-at-all', headers: {} },
    { case: 'the admin token with a suffix', token: () => `${ADMIN_TOKEN}x`, headers: {} },
    {
      case: 'a well-formed key that does not exist',
      token: () => `cimd_${UNKNOWN_KEY_ID}_${'A'.repeat(43)}`,
      headers: {},
    },
    { case: 'a real key id with a wrong secret', token: () => `cimd_${keys.alphaId}_${'A'.repeat(43)}`, headers: {} },
    { case: 'a revoked key', token: () => keys.revoked, headers: {} },
    { case: 'a token longer than 512 characters', token: () => 'x'.repeat(513), headers: {} },
  ])('$case → 401 invalid_token with WWW-Authenticate', async ({ token, headers }) => {
    const res = await stack.request('GET', '/v1/tenants/alpha/policy', { token: token(), headers });
    expectError(res, 401, 'invalid_token');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
  });

  const routes: { method: string; path: string; body?: unknown }[] = [
    { method: 'POST', path: '/v1/tenants', body: { id: 'never-created' } },
    { method: 'GET', path: '/v1/tenants/alpha/policy' },
    { method: 'PUT', path: '/v1/tenants/alpha/policy', body: {} },
    { method: 'POST', path: '/v1/tenants/alpha/authorize/check', body: checkBody('https://a.example/c.json') },
    { method: 'POST', path: '/v1/tenants/alpha/keys' },
    { method: 'DELETE', path: `/v1/tenants/alpha/keys/${UNKNOWN_KEY_ID}` },
    { method: 'GET', path: '/v1/clients?client_id=https%3A%2F%2Fa.example%2Fc.json' },
    { method: 'POST', path: '/v1/clients/refresh', body: { client_id: 'https://a.example/c.json' } },
  ];
  it.each(
    routes.flatMap((r) => [
      { ...r, token: null },
      { ...r, token: 'wrong-token-0123456789' },
    ]),
  )('$method $path with token $token → 401', async ({ method, path, body, token }) => {
    const res = await stack.request(method, path, { token, ...(body !== undefined ? { body } : {}) });
    expectError(res, 401, 'invalid_token');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('POST /v1/tenants/{t}/keys (admin) → 201 {id, key}: the key is shown once and works at once', async () => {
    const res = await stack.request('POST', '/v1/tenants/alpha/keys');
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['id', 'key']);
    expect(res.body.id).toMatch(UUID);
    expect(res.body.key).toMatch(new RegExp(`^cimd_${res.body.id}_[A-Za-z0-9_-]{43}$`));
    expect((await stack.request('GET', '/v1/tenants/alpha/policy', { token: res.body.key })).status).toBe(200);
    // There is no way to read a key again.
    expectError(await stack.request('GET', '/v1/tenants/alpha/keys'), 404, 'not_found');
    expectError(await stack.request('GET', `/v1/tenants/alpha/keys/${res.body.id}`), 404, 'not_found');
  });

  it('stores only a SHA-256 (64 hex) of the secret: the database holds no plaintext key', async () => {
    const { id, key } = await createKey('alpha');
    const secret = key.slice(`cimd_${id}_`.length);
    const row = (await db.query('SELECT * FROM api_keys WHERE id = $1', [id])).rows[0];
    expect(row).toMatchObject({ id, tenant_id: 'alpha', revoked_at: null });
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    const tables = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(tables.rows.map((t) => t.table_name)).toContain('api_keys');
    for (const { table_name } of tables.rows) {
      const rows = await db.query<{ row: string }>(`SELECT t::text AS row FROM ${escapeIdentifier(table_name)} t`);
      for (const r of rows.rows) {
        expect(r.row).not.toContain(secret);
        expect(r.row).not.toContain(key);
      }
    }
  });

  it('a key is scoped to its tenant', async () => {
    expect((await stack.request('GET', '/v1/tenants/alpha/policy', { token: keys.alpha })).status).toBe(200);
    expect((await stack.request('GET', '/v1/tenants/beta/policy', { token: keys.beta })).status).toBe(200);
    expectError(await stack.request('GET', '/v1/tenants/beta/policy', { token: keys.alpha }), 403, 'access_denied');
  });

  it('DELETE /v1/tenants/{t}/keys/{id} (admin) → 204; the revoked key gets 401 at once', async () => {
    const { id, key } = await createKey('alpha');
    // Used (and so cached by the gateway, also as a verified token of the authorize check) before the revocation.
    expect((await stack.request('GET', '/v1/tenants/alpha/policy', { token: key })).status).toBe(200);
    expect((await check('alpha', checkBody('https://a.example/c.json'), key)).status).toBe(200);
    const del = await stack.request('DELETE', `/v1/tenants/alpha/keys/${id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    const after = await stack.request('GET', '/v1/tenants/alpha/policy', { token: key });
    expectError(after, 401, 'invalid_token');
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expectError(await check('alpha', checkBody('https://a.example/c.json'), key), 401, 'invalid_token');
    const row = (await db.query('SELECT revoked_at FROM api_keys WHERE id = $1', [id])).rows[0];
    expect(row.revoked_at).toBeInstanceOf(Date);
    // Revoking again changes nothing.
    expect((await stack.request('DELETE', `/v1/tenants/alpha/keys/${id}`)).status).toBe(204);
  });

  it.each([
    { case: 'an unknown key id', id: () => UNKNOWN_KEY_ID },
    { case: 'a key id that is not a UUID', id: () => 'not-a-uuid' },
    { case: 'an upper-case spelling of a real key id', id: () => keys.alphaId.toUpperCase() },
    { case: "another tenant's key id", id: () => keys.betaId },
  ])('DELETE with $case → 404, and no key is revoked', async ({ id }) => {
    expectError(await stack.request('DELETE', `/v1/tenants/alpha/keys/${encodeURIComponent(id())}`), 404, 'not_found');
    expect((await stack.request('GET', '/v1/tenants/beta/policy', { token: keys.beta })).status).toBe(200);
    expect((await stack.request('GET', '/v1/tenants/alpha/policy', { token: keys.alpha })).status).toBe(200);
  });
});

describe('tenants and policies', () => {
  it('POST /v1/tenants (admin) {id} → 201 with the effective policy, version 1', async () => {
    const res = await stack.request('POST', '/v1/tenants', { body: { id: 'created-1' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: 'created-1', policy_version: 1 });
    expect(res.body.policy).toMatchObject({ allow_hosts: [], allowlist_only: false, stale_if_error_seconds: 3600 });
    expect(await policyVersion('created-1')).toBe(1);
  });

  it('POST /v1/tenants with a policy → 201, the policy in force', async () => {
    const policy = { allow_hosts: ['*.example.com'], require_client_name: true };
    const res = await stack.request('POST', '/v1/tenants', { body: { id: 'created-2', policy } });
    expect(res.status).toBe(201);
    expect(res.body.policy).toMatchObject(policy);
    const got = await stack.request('GET', '/v1/tenants/created-2/policy');
    expect(got.body).toMatchObject({ tenant: 'created-2', version: 1, policy });
  });

  it('POST /v1/tenants with an existing id → 409', async () => {
    expectError(await stack.request('POST', '/v1/tenants', { body: { id: 'alpha' } }), 409, 'conflict', /alpha/);
    // The existing tenant is untouched.
    expect(await policyVersion('alpha')).toBeGreaterThanOrEqual(1);
  });

  it.each([
    { case: 'upper case', id: 'Acme' },
    { case: 'a space', id: 'a b' },
    { case: 'a leading hyphen', id: '-acme' },
    { case: 'a trailing hyphen', id: 'acme-' },
    { case: 'empty', id: '' },
    { case: '64 characters', id: 'a'.repeat(64) },
    { case: 'non-ASCII', id: 'café' },
    { case: 'a slash', id: 'a/b' },
    { case: 'a number', id: 7 },
    { case: 'null', id: null },
    { case: 'an object', id: { x: 1 } },
  ])('POST /v1/tenants with an id that is $case → 400 naming id', async ({ id }) => {
    expectError(await stack.request('POST', '/v1/tenants', { body: { id } }), 400, 'invalid_request', /\bid\b/);
  });

  it.each([
    { case: 'a missing id', body: {}, field: /\bid is required/ },
    { case: 'an unknown field beside id', body: { id: 'x1', polcy: {} }, field: /polcy/ },
  ])('POST /v1/tenants with $case → 400 naming the field', async ({ body, field }) => {
    expectError(await stack.request('POST', '/v1/tenants', { body }), 400, 'invalid_request', field);
  });

  const badPolicies = [
    { case: 'an unknown field', policy: { allow_host: ['example.com'] }, field: /allow_host\b/ },
    { case: 'a string for a list', policy: { allow_hosts: 'example.com' }, field: /allow_hosts/ },
    { case: 'a bad host pattern', policy: { deny_hosts: ['http://x'] }, field: /deny_hosts\[0\]/ },
    { case: 'a string for a boolean', policy: { allowlist_only: 'yes' }, field: /allowlist_only/ },
    { case: 'a negative number', policy: { new_client_warning_seconds: -1 }, field: /new_client_warning_seconds/ },
    { case: 'a fraction', policy: { stale_if_error_seconds: 1.5 }, field: /stale_if_error_seconds/ },
    { case: 'a number past its bound', policy: { stale_if_error_seconds: 1e300 }, field: /stale_if_error_seconds/ },
    { case: 'a number in a list', policy: { trusted_client_ids: [1] }, field: /trusted_client_ids\[0\]/ },
    // PostgreSQL's jsonb refuses these: a 400 here, not a failed INSERT (500).
    { case: 'U+0000 in a string', policy: { trusted_client_ids: ['a\u0000b'] }, field: /trusted_client_ids\[0\]/ },
    {
      case: 'an unpaired surrogate',
      policy: { allowed_client_ids: ['x', '\ud800'] },
      field: /allowed_client_ids\[1\]/,
    },
    { case: 'an array', policy: [], field: /policy/ },
    { case: 'a string', policy: 'strict', field: /policy/ },
    { case: 'null', policy: null, field: /policy/ },
    // Webhook URLs that can be known bad before any delivery (SPEC-NOTES 5): the rule is named.
    ...[
      { case: 'a loopback address', url: 'https://127.0.0.9/hook', rule: 'special_use_address' },
      { case: 'the IPv6 loopback', url: 'https://[::1]/hook', rule: 'special_use_address' },
      { case: 'the metadata address', url: 'https://169.254.169.254/latest/meta-data/', rule: 'special_use_address' },
      { case: 'loopback spelled 0x7f.1', url: 'https://0x7f.1/hook', rule: 'special_use_address' },
      { case: 'localhost', url: 'https://localhost/hook', rule: 'localhost' },
      { case: 'credentials', url: 'https://user:secret@hooks.example.com/hook', rule: 'userinfo' },
      { case: 'port 80', url: 'https://hooks.example.com:80/hook', rule: 'port_not_allowed' },
    ].map(({ case: name, url, rule }) => ({
      case: `a webhook URL with ${name}`,
      policy: { webhook: { url, secret: 'webhook-secret-0123456789' } },
      field: new RegExp(`^invalid policy: webhook\\.url: .+ \\(rule webhook_url\\.${rule}\\)$`),
    })),
  ];

  it.each(badPolicies)('POST /v1/tenants with a policy with $case → 400 naming the field', async (row) => {
    const id = `bad-policy-${badPolicies.indexOf(row)}`;
    const res = await stack.request('POST', '/v1/tenants', { body: { id, policy: row.policy } });
    expectError(res, 400, 'invalid_request', row.field);
    // Nothing was created.
    expectError(await stack.request('GET', `/v1/tenants/${id}/policy`), 404, 'not_found');
  });

  it('accepts a webhook URL on a name and a port the deployment delivers to', async () => {
    const webhook = { url: stack.clientId('/hooks/created-1', 'hooks.test'), secret: 'webhook-secret-0123456789' };
    const res = await stack.request('PUT', '/v1/tenants/created-1/policy', { body: { webhook } });
    expect([res.status, res.body.policy?.webhook]).toEqual([200, webhook]);
    expect((await stack.request('PUT', '/v1/tenants/created-1/policy', { body: {} })).status).toBe(200);
  });

  it.each(badPolicies)('PUT /v1/tenants/{t}/policy with $case → 400 naming the field; no new version', async (row) => {
    const before = await policyVersion('created-1');
    const res = await stack.request('PUT', '/v1/tenants/created-1/policy', { body: row.policy });
    expectError(res, 400, 'invalid_request', row.field);
    expect(await policyVersion('created-1')).toBe(before);
  });

  it('PUT without a body → 400, not a silent reset to the defaults', async () => {
    const before = await policyVersion('created-2');
    expectError(await stack.request('PUT', '/v1/tenants/created-2/policy'), 400, 'invalid_request');
    expect(await policyVersion('created-2')).toBe(before);
    expect((await stack.request('GET', '/v1/tenants/created-2/policy')).body.policy.require_client_name).toBe(true);
  });

  it('PUT creates a new version each time; GET returns the latest (admin or the tenant key)', async () => {
    const v = await policyVersion('alpha');
    const first = await stack.request('PUT', '/v1/tenants/alpha/policy', {
      body: { deny_hosts: ['one.example'] },
      token: keys.alpha,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ tenant: 'alpha', version: v + 1, policy: { deny_hosts: ['one.example'] } });
    const second = await stack.request('PUT', '/v1/tenants/alpha/policy', { body: { deny_hosts: ['two.example'] } });
    expect(second.body).toMatchObject({ tenant: 'alpha', version: v + 2, policy: { deny_hosts: ['two.example'] } });
    for (const token of [ADMIN_TOKEN, keys.alpha]) {
      const got = await stack.request('GET', '/v1/tenants/alpha/policy', { token });
      expect(got.status).toBe(200);
      expect(got.body).toEqual({ tenant: 'alpha', version: v + 2, policy: second.body.policy });
    }
    const rows = await db.query<{ version: number }>(
      'SELECT version FROM tenant_policies WHERE tenant_id = $1 ORDER BY version',
      ['alpha'],
    );
    expect(rows.rows.map((r) => r.version)).toEqual(Array.from({ length: v + 2 }, (_, i) => i + 1));
    // Fields left out follow the defaults again.
    const reset = await stack.request('PUT', '/v1/tenants/alpha/policy', { body: {} });
    expect(reset.body).toMatchObject({ version: v + 3, policy: { deny_hosts: [] } });
  });

  it('a policy change is seen by the next authorize check on this replica', async () => {
    const clientId = stack.clientId('/policy-change.json');
    stack.origin.json('/policy-change.json', documentFor(clientId));
    const allowed = await check('alpha', checkBody(clientId));
    expect(allowed.status).toBe(200);
    expect(allowed.body.decision).toBe('allow');

    const put = await stack.request('PUT', '/v1/tenants/alpha/policy', {
      body: { deny_hosts: ['client.test'] },
      token: keys.alpha,
    });
    expect(put.status).toBe(200);
    const denied = await check('alpha', checkBody(clientId));
    expect(denied.body).toMatchObject({ decision: 'deny', error: 'unauthorized_client', reason: 'policy.host_denied' });

    expect((await stack.request('PUT', '/v1/tenants/alpha/policy', { body: {} })).status).toBe(200);
    expect((await check('alpha', checkBody(clientId))).body.decision).toBe('allow');
  });
});

describe('bad input never gets a 500', () => {
  const valid = () => checkBody('https://client.example/app.json');
  const url = 'https://client.example/app.json';
  const badChecks: { case: string; options: RequestOptions; status?: number | number[]; description?: RegExp }[] = [
    { case: 'client_id "not a url"', options: { body: { ...valid(), client_id: 'not a url' } }, description: /space/ },
    { case: 'client_id ""', options: { body: { ...valid(), client_id: '' } }, description: /client_id is empty/ },
    {
      case: 'client_id of 10 KB',
      options: { body: { ...valid(), client_id: `${url}?${'a'.repeat(10_240)}` } },
      description: /client_id/,
    },
    {
      case: 'client_id over 2048 characters',
      options: { body: { ...valid(), client_id: `${url}?${'a'.repeat(3000)}` } },
      description: /at most 2048/,
    },
    {
      case: 'client_id without a scheme',
      options: { body: { ...valid(), client_id: 'client.example/app.json' } },
      description: /not an absolute URL/,
    },
    { case: 'client_id a number', options: { body: { ...valid(), client_id: 42 } }, description: /client_id.*string/ },
    { case: 'client_id null', options: { body: { ...valid(), client_id: null } }, description: /client_id/ },
    { case: 'client_id an array', options: { body: { ...valid(), client_id: [url] } }, description: /client_id/ },
    { case: 'client_id an object', options: { body: { ...valid(), client_id: { url } } }, description: /client_id/ },
    {
      case: 'client_id with U+0000',
      options: { body: { ...valid(), client_id: `${url}\u0000` } },
      description: /U\+0000/,
    },
    { case: 'client_id missing', options: { body: { redirect_uri: url } }, description: /client_id is required/ },
    { case: 'redirect_uri missing', options: { body: { client_id: url } }, description: /redirect_uri is required/ },
    { case: 'redirect_uri ""', options: { body: { ...valid(), redirect_uri: '' } }, description: /redirect_uri/ },
    { case: 'redirect_uri a number', options: { body: { ...valid(), redirect_uri: 1 } }, description: /redirect_uri/ },
    { case: 'scope a list', options: { body: { ...valid(), scope: ['openid'] } }, description: /scope/ },
    {
      case: 'response_type a boolean',
      options: { body: { ...valid(), response_type: true } },
      description: /response/,
    },
    { case: 'an empty object', options: { body: {} }, description: /client_id is required.*redirect_uri is required/ },
    { case: 'an unknown field', options: { body: { ...valid(), state: 'x' } }, description: /unknown field.*state/ },
  ];

  it.each(badChecks)('authorize check with $case → 400 invalid_request', async ({ options, status, description }) => {
    const res = await stack.request('POST', '/v1/tenants/alpha/authorize/check', { token: keys.alpha, ...options });
    expectError(res, status ?? 400, 'invalid_request', description);
  });

  /** Body problems every JSON route answers the same way. */
  const badBodies: { case: string; options: RequestOptions; status: number | number[]; description?: RegExp }[] = [
    { case: 'malformed JSON', options: { raw: '{"client_id":' }, status: 400, description: /JSON/ },
    { case: 'JSON with trailing garbage', options: { raw: '{} x' }, status: 400, description: /JSON/ },
    { case: 'a JSON array', options: { raw: '[]' }, status: 400, description: /JSON object/ },
    { case: 'a JSON string', options: { raw: '"https://client.example/app.json"' }, status: 400 },
    { case: 'a JSON number', options: { raw: '42' }, status: 400, description: /JSON object/ },
    { case: 'JSON null', options: { raw: 'null' }, status: 400, description: /JSON object/ },
    { case: 'an empty JSON body', options: { raw: '' }, status: 400, description: /empty/ },
    // Valid JSON whose only problem is the key: the description says so, not "not valid JSON".
    {
      case: 'a __proto__ key',
      options: { raw: '{"__proto__":{"admin":true}}' },
      status: 400,
      description:
        /^the request body has the key body\.__proto__, which is refused because it could change object prototypes/,
    },
    {
      case: 'a nested constructor.prototype',
      options: { raw: '{"policy":{"constructor":{"prototype":{"admin":true}}}}' },
      status: 400,
      description: /body\.policy\.constructor\.prototype, which is refused/,
    },
    {
      case: 'a __proto__ key in malformed JSON',
      options: { raw: '{"__proto__":{"admin":true}' },
      status: 400,
      description: /not valid JSON/,
    },
    {
      case: 'a body over 64 KiB',
      options: { raw: JSON.stringify({ client_id: `https://client.example/${'a'.repeat(70_000)}` }) },
      status: 413,
      description: /too large/,
    },
    {
      case: 'text/plain',
      options: { raw: '{"id":"x"}', headers: { 'content-type': 'text/plain' } },
      status: [400, 415],
    },
    {
      case: 'application/xml',
      options: { raw: '<id>x</id>', headers: { 'content-type': 'application/xml' } },
      status: 415,
      description: /application\/json/,
    },
    {
      case: 'a malformed content type',
      options: { raw: '{}', headers: { 'content-type': '////' } },
      status: 415,
    },
  ];
  const bodyRoutes = [
    { method: 'POST', path: '/v1/tenants' },
    { method: 'PUT', path: '/v1/tenants/alpha/policy' },
    { method: 'POST', path: '/v1/tenants/alpha/authorize/check' },
    { method: 'POST', path: '/v1/clients/refresh' },
  ];
  it.each(bodyRoutes.flatMap((route) => badBodies.map((b) => ({ ...route, ...b }))))(
    '$method $path with $case → $status',
    async ({ method, path, options, status, description }) => {
      const before = await policyVersion('alpha');
      const res = await stack.request(method, path, options);
      expectError(res, status, 'invalid_request', description);
      expect(await policyVersion('alpha')).toBe(before);
    },
  );

  it.each([
    { method: 'GET', path: '/v1/tenants/nobody/policy' },
    { method: 'PUT', path: '/v1/tenants/nobody/policy', body: {} },
    { method: 'POST', path: '/v1/tenants/nobody/authorize/check', body: checkBody('https://client.example/a.json') },
    { method: 'POST', path: '/v1/tenants/nobody/keys' },
    { method: 'DELETE', path: `/v1/tenants/nobody/keys/${UNKNOWN_KEY_ID}` },
    // Not empty lists: an unknown tenant is a 404 on these too, as over gRPC (WatchEvents).
    { method: 'GET', path: '/v1/tenants/nobody/events' },
    { method: 'GET', path: '/v1/tenants/nobody/events?after=5&limit=10' },
    { method: 'GET', path: '/v1/tenants/nobody/webhooks/deliveries' },
  ])('$method $path (unknown tenant, admin) → 404', async ({ method, path, body }) => {
    const res = await stack.request(method, path, body !== undefined ? { body } : {});
    expectError(res, 404, 'not_found', /nobody/);
  });

  it.each([
    { method: 'GET', path: '/v1/tenants/Alpha/policy' },
    { method: 'PUT', path: '/v1/tenants/al_pha/policy', body: {} },
    { method: 'POST', path: '/v1/tenants/-alpha/authorize/check', body: checkBody('https://client.example/a.json') },
    { method: 'POST', path: '/v1/tenants/al%20pha/keys' },
    { method: 'DELETE', path: `/v1/tenants/al%00pha/keys/${UNKNOWN_KEY_ID}` },
  ])('$method $path (not a tenant id) → 400', async ({ method, path, body }) => {
    const res = await stack.request(method, path, body !== undefined ? { body } : {});
    expectError(res, 400, 'invalid_request', /not a tenant id/);
  });

  it.each([
    { case: '"not a url"', query: 'not%20a%20url', description: /space/ },
    { case: 'a relative path', query: '%2Fapp.json', description: /not an absolute URL/ },
    { case: 'nothing', query: '', description: /client_id query parameter is required/ },
    { case: 'two values', query: 'a&client_id=b', description: /client_id query parameter is required/ },
  ])('GET /v1/clients with client_id $case → 400', async ({ query, description }) => {
    const res = await stack.request('GET', `/v1/clients?client_id=${query}`, { token: keys.alpha });
    expectError(res, 400, 'invalid_request', description);
  });

  it.each([
    { method: 'GET', path: '/no-such-route' },
    { method: 'POST', path: '/healthz' },
    { method: 'DELETE', path: '/v1/tenants/alpha/policy' },
    { method: 'GET', path: '/v1/tenants' },
    { method: 'GET', path: '/v1/logos/not-a-hash' },
  ])('$method $path → 404 in the same error shape', async ({ method, path }) => {
    expectError(await stack.request(method, path), 404, 'not_found');
  });

  /**
   * Answered before any route or ApiErrorFilter runs, so they need createGatewayApp (main.ts):
   * URL errors come in Fastify's own body until FastifyAdapter gets `frameworkErrors`, and forms
   * are parsed (a form creates a tenant) until NestFactory.create gets `bodyParser: false`.
   */
  const needMainTs: { case: string; method: string; path: string; options?: RequestOptions; status: number }[] = [
    { case: 'a malformed percent-encoding', method: 'GET', path: '/v1/tenants/%ZZ/policy', status: 400 },
    { case: 'an overlong UTF-8 sequence', method: 'GET', path: '/v1/tenants/%C0%80/policy', status: 400 },
    {
      case: 'a path parameter past maxParamLength',
      method: 'GET',
      path: `/v1/tenants/${'a'.repeat(600)}/policy`,
      status: 414,
    },
    ...bodyRoutes.map((route) => ({
      ...route,
      case: 'a form body',
      options: { raw: 'id=from-a-form', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      status: 415,
    })),
  ];
  it.each(needMainTs)('$method $path with $case → not a 500', async ({ method, path, options }) => {
    expect((await stack.request(method, path, options)).status).toBeLessThan(500);
  });
  it.each(needMainTs)('$method $path with $case → $status', async ({ method, path, options, status }) => {
    expectError(await stack.request(method, path, options), status, 'invalid_request');
  });
});

describe('tenant isolation', () => {
  const betaRoutes = [
    { method: 'GET', path: '/v1/tenants/beta/policy' },
    { method: 'PUT', path: '/v1/tenants/beta/policy', body: { deny_hosts: ['evil.example'] } },
    { method: 'POST', path: '/v1/tenants/beta/authorize/check', body: checkBody('https://client.example/a.json') },
    { method: 'POST', path: '/v1/tenants/beta/keys' },
    { method: 'DELETE', path: '/v1/tenants/beta/keys/:betaKey' },
    // A tenant that does not exist looks the same as one that does.
    { method: 'GET', path: '/v1/tenants/gamma/policy' },
    { method: 'PUT', path: '/v1/tenants/gamma/policy', body: {} },
    { method: 'POST', path: '/v1/tenants/gamma/authorize/check', body: checkBody('https://client.example/a.json') },
  ];
  it.each(betaRoutes)("tenant alpha's key on $method $path → 403, nothing of beta", async ({ method, path, body }) => {
    const before = await stack.request('GET', '/v1/tenants/beta/policy');
    const res = await stack.request(method, path.replace(':betaKey', keys.betaId), {
      token: keys.alpha,
      ...(body !== undefined ? { body } : {}),
    });
    expectError(res, 403, 'access_denied');
    expect(JSON.stringify(res.body)).not.toMatch(/beta-secret|deny_hosts|version/);
    // Beta is unchanged and its key still works.
    expect(await stack.request('GET', '/v1/tenants/beta/policy')).toMatchObject({ status: 200, body: before.body });
    expect((await stack.request('GET', '/v1/tenants/beta/policy', { token: keys.beta })).status).toBe(200);
  });

  const adminRoutes = [
    { method: 'POST', path: '/v1/tenants', body: { id: 'made-by-a-tenant' } },
    { method: 'POST', path: '/v1/tenants/alpha/keys' },
    { method: 'DELETE', path: '/v1/tenants/alpha/keys/:alphaKey' },
    { method: 'POST', path: '/v1/clients/refresh', body: { client_id: 'https://client.example/a.json' } },
  ];
  it.each(adminRoutes)(
    'a tenant key on the admin-only $method $path (own tenant) → 403',
    async ({ method, path, body }) => {
      const keyCount = await db.query('SELECT count(*)::int AS n FROM api_keys');
      const res = await stack.request(method, path.replace(':alphaKey', keys.alphaId), {
        token: keys.alpha,
        ...(body !== undefined ? { body } : {}),
      });
      expectError(res, 403, 'access_denied', /admin/);
      expect((await db.query('SELECT count(*)::int AS n FROM api_keys')).rows).toEqual(keyCount.rows);
      expectError(await stack.request('GET', '/v1/tenants/made-by-a-tenant/policy'), 404, 'not_found');
      expect((await stack.request('GET', '/v1/tenants/alpha/policy', { token: keys.alpha })).status).toBe(200);
    },
  );
});

describe('operations endpoints', () => {
  it('GET /healthz → 200 {status: ok}, without a token', async () => {
    const res = await stack.request('GET', '/healthz', { token: null });
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('GET /readyz → 200 with Redis and PostgreSQL up', async () => {
    const res = await stack.request('GET', '/readyz', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { redis: { status: 'up' }, postgres: { status: 'up' } } });
  });

  it('GET /metrics: request latency by route and decision, cache lookups, fetch queue wait', async () => {
    const clientId = stack.clientId('/metrics.json');
    stack.origin.json('/metrics.json', documentFor(clientId));
    expect((await check('alpha', checkBody(clientId))).body).toMatchObject({ decision: 'allow' });
    expect((await check('alpha', checkBody(clientId))).body).toMatchObject({ cache: { status: 'hit' } });
    expect((await check('alpha', checkBody(clientId, { redirect_uri: 'https://evil.example/' }))).body.decision).toBe(
      'deny',
    );

    const res = await fetch(`${stack.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const sample = (name: string, labels: Record<string, string>): number => {
      const lines = text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    };
    expect(text).toContain('# TYPE cimd_http_request_duration_seconds histogram');
    for (const decision of ['allow', 'deny']) {
      expect(
        sample('cimd_http_request_duration_seconds_count', { route: CHECK_ROUTE, method: 'POST', decision }),
      ).toBeGreaterThanOrEqual(1);
    }
    expect(text).toContain('# TYPE cimd_client_cache_lookups_total counter');
    expect(sample('cimd_client_cache_lookups_total', { result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(sample('cimd_client_cache_lookups_total', { result: 'hit' })).toBeGreaterThanOrEqual(1);
    expect(text).toContain('# TYPE cimd_fetch_queue_wait_seconds histogram');
    expect(sample('cimd_fetch_queue_wait_seconds_count', {})).toBeGreaterThanOrEqual(1);
  });

  it('GET /docs → 200 Swagger UI, whose assets load', async () => {
    const res = await fetch(`${stack.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('Swagger UI');
    const css = /href="\.\/(docs\/swagger-ui\.css)"/.exec(html)?.[1];
    expect(css).toBeDefined();
    expect((await fetch(`${stack.url}/${css}`)).status).toBe(200);
  });

  it('GET /docs/openapi.json lists the /v1 routes with bearer authentication', async () => {
    const res = await fetch(`${stack.url}/docs/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /v1/tenants',
        'GET /v1/tenants/{tenant}/policy',
        'PUT /v1/tenants/{tenant}/policy',
        'POST /v1/tenants/{tenant}/keys',
        'DELETE /v1/tenants/{tenant}/keys/{id}',
        'POST /v1/tenants/{tenant}/authorize/check',
        'GET /v1/clients',
        'POST /v1/clients/refresh',
        'GET /v1/logos/{sha256}',
      ]),
    );
    expect(operations.filter((o) => !o.includes(' /v1/'))).toEqual([]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  describe('with Redis down', () => {
    let redisDown: NestFastifyApplication;
    let closed = false;
    let clients: { name: string; redis: Redis }[] = [];
    /** Whether an ioredis client will still try to connect: not ended, nor disconnected while waiting to retry. */
    const retrying = (redis: Redis) => {
      const internal = redis as unknown as { manuallyClosing?: boolean; reconnectTimeout?: unknown };
      return redis.status !== 'end' && !(internal.manuallyClosing === true && !internal.reconnectTimeout);
    };
    const inject = async (url: string, headers: Record<string, string> = {}) => {
      const res = await redisDown.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });
      return { status: res.statusCode, body: res.json() };
    };

    beforeAll(async () => {
      // Nothing listens on port 1. Same database as the stack; its schema is already in place.
      redisDown = await createGatewayApp(
        loadGatewayConfig({
          NODE_ENV: 'test',
          LOG_LEVEL: 'fatal',
          REDIS_URL: 'redis://127.0.0.1:1',
          DATABASE_URL: stack.databaseUrl,
          CIMD_ADMIN_TOKEN: ADMIN_TOKEN,
          CIMD_MIGRATE: 'off',
        }),
      );
      await redisDown.init();
      clients = [
        { name: 'the main connection', redis: redisDown.get<Redis>(REDIS) },
        // BullMQ owns this connection (it was given options, not a client): reach its ioredis client to watch it.
        {
          name: "the fetch queue's",
          redis: (redisDown.get<Queue>(getQueueToken(FETCH_QUEUE)) as unknown as { connection: { _client: Redis } })
            .connection._client,
        },
      ];
    }, 15_000);

    afterAll(async () => {
      if (!closed) await redisDown?.close();
    });

    it('the gateway still starts, and GET /readyz → 503 naming Redis', async () => {
      const res = await inject('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'not_ready', checks: { postgres: { status: 'up' } } });
      expect(res.body.checks.redis).toEqual({ status: 'down', error: expect.any(String) });
    });

    it('GET /healthz stays 200 (liveness checks nothing else)', async () => {
      expect(await inject('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('the tenant API, which needs only PostgreSQL, keeps working', async () => {
      const res = await inject('/v1/tenants/alpha/policy', { authorization: `Bearer ${keys.alpha}` });
      expect(res).toMatchObject({ status: 200, body: { tenant: 'alpha' } });
    });

    it('closes within a couple of seconds', async () => {
      const started = Date.now();
      await redisDown.close();
      closed = true;
      // Not a timing test: only that shutdown does not hang on a Redis that is down.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(retrying(clients[0]!.redis)).toBe(false);
    });

    // queue.client never settles while Redis is down, so shutdown must disconnect the connection it gave BullMQ.
    it("after close, the fetch queue's connection no longer reconnects", () => {
      expect(closed).toBe(true);
      expect(retrying(clients[1]!.redis)).toBe(false);
    });
  });
});

describe('start-up and schema', () => {
  it('the built gateway refuses to start without CIMD_ADMIN_TOKEN, naming it', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'gateway', 'src', 'main.js')], {
      env: { PATH: process.env.PATH, NODE_ENV: 'test', PORT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/CIMD_ADMIN_TOKEN: is required/);
  });

  describe('a fresh database', () => {
    const url = databaseUrl(`cimd_test_api_schema_${process.pid}`);
    const names = MIGRATIONS.map((m) => new m().name);

    beforeAll(async () => {
      extraDatabases.push(url);
      await dropDatabase(url);
    });

    it('ensureDatabase creates a missing database once', async () => {
      expect(await ensureDatabase(url)).toBe(true);
      expect(await ensureDatabase(url)).toBe(false);
    });

    it('migrate() applies every migration, then reports nothing left to apply', async () => {
      expect(await migrate(url, true)).toEqual(names);
      expect(await migrate(url, true)).toEqual([]);
    });

    it('the migrated schema is exactly what the entities describe (no change without a migration)', async () => {
      const ds = createDataSource(url);
      await ds.initialize();
      try {
        expect(await ds.showMigrations()).toBe(false);
        const pending = async () => (await ds.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
        expect(await pending()).toEqual([]);
        // The check sees a difference: undo the last migration and it reports what is missing.
        await ds.undoLastMigration({ transaction: 'each' });
        expect((await pending()).length).toBeGreaterThan(0);
        await ds.runMigrations({ transaction: 'each' });
        expect(await pending()).toEqual([]);
      } finally {
        await ds.destroy();
      }
    });

    it('`npm run migrate` (the built script) creates, migrates, then says the schema is up to date', async () => {
      await dropDatabase(url);
      const run = async () => {
        const child = spawn(
          process.execPath,
          [join(ROOT, 'dist', 'apps', 'gateway', 'src', 'database', 'migrate.js')],
          {
            env: { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: url },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        return { code, out };
      };
      expect(await run()).toEqual({ code: 0, out: `applied: ${names.join(', ')}\n` });
      expect(await run()).toEqual({ code: 0, out: 'the schema is up to date\n' });
    });
  });
});

/** Weaknesses the reliability suite's fuzzing found (test/reliability/fuzz-http.reliability.ts), kept fixed. */
describe('bad input found by fuzzing', () => {
  /** One request written byte for byte: its answer (status, type, body) and whatever followed it. */
  function rawHttp(request: string): Promise<{ status: number; type: string; body: unknown; rest: string }> {
    return new Promise((resolve, reject) => {
      const { port } = new URL(stack.url);
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
      const chunks: Buffer[] = [];
      socket.setTimeout(10_000, () => socket.destroy());
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        const head = text.slice(0, Math.max(end, 0));
        const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? -1);
        if (!m || end < 0 || length < 0) return reject(new Error(`no answer: ${JSON.stringify(text.slice(0, 300))}`));
        const body = text.slice(end + 4, end + 4 + length);
        resolve({
          status: Number(m[1]),
          type: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '',
          body: JSON.parse(body) as unknown,
          rest: text.slice(end + 4 + length),
        });
      });
    });
  }

  it.each([
    [
      'a URL over the header limit',
      `GET /v1/clients?client_id=https://a.example/${'a'.repeat(100_000)} HTTP/1.1\r\nhost: x\r\n\r\n`,
      431,
    ],
    ['a control character in the request line', 'GET /v1/tenants/a\u0001b/policy HTTP/1.1\r\nhost: x\r\n\r\n', 400],
    [
      'a NUL in a header',
      `GET /v1/tenants/alpha/policy HTTP/1.1\r\nhost: x\r\nauthorization: Bearer x\u0000y\r\n\r\n`,
      400,
    ],
    [
      'broken chunked framing',
      'POST /v1/clients/refresh HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n\r\n',
      400,
    ],
  ])('%s: refused with one answer, the OAuth-style body, and the connection closed', async (_case, request, status) => {
    const r = await rawHttp(request);
    expect(r).toEqual({
      status,
      type: expect.stringMatching(/^application\/json/) as unknown,
      body: { error: 'invalid_request', error_description: expect.stringMatching(/\w+ \w+/) as unknown },
      rest: '',
    });
  });

  /** One request of `bodyBytes` bytes written at once; what came back, or how the connection failed. */
  function sendWhole(
    bodyBytes: number,
    options: { keepSending?: boolean } = {},
  ): Promise<{ answer: string; failure?: string }> {
    return new Promise((resolve) => {
      const { port } = new URL(stack.url);
      // Half-open allowed: the server's FIN does not end this side, so it can go on sending.
      const socket = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
      const chunks: Buffer[] = [];
      let failure: string | undefined;
      let timer: NodeJS.Timeout | undefined;
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', (e: Error & { code?: string }) => (failure = e.code ?? e.message));
      socket.on('end', () => {
        if (!options.keepSending) socket.end();
      });
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ answer: Buffer.concat(chunks).toString('latin1'), failure });
      });
      socket.on('connect', () => {
        const head =
          'POST /v1/tenants/alpha/authorize/check HTTP/1.1\r\nhost: x\r\nconnection: close\r\n' +
          `authorization: Bearer ${keys.alpha}\r\ncontent-type: application/json\r\n` +
          `content-length: ${options.keepSending ? 1 << 30 : bodyBytes}\r\n\r\n`;
        socket.write(Buffer.concat([Buffer.from(head), Buffer.alloc(bodyBytes, 0x20)]));
        // A client that never finishes its body nor closes: only the server can end this (the
        // promise settles on close, so the test's timeout is the bound).
        if (options.keepSending) timer = setInterval(() => socket.write(Buffer.alloc(1024, 0x20)), 50);
      });
    });
  }

  it('a 10 MiB body sent in one write gets its 413, not a connection reset (lingering close)', async () => {
    for (let i = 0; i < 5; i++) {
      const { answer, failure } = await sendWhole(10 << 20);
      expect({ start: answer.slice(0, 12), failure }).toEqual({ start: 'HTTP/1.1 413', failure: undefined });
      expect(answer).toMatch(/"error":"invalid_request"/);
    }
  });

  it('a client that keeps sending after its 413 is cut off by the server', async () => {
    const { answer } = await sendWhole(256 * 1024, { keepSending: true });
    expect(answer.slice(0, 12)).toBe('HTTP/1.1 413');
  }, 20_000);

  it('a key id that is not a UUID (36 hyphens) is a 404, not a failed PostgreSQL query', async () => {
    expectError(await stack.request('DELETE', `/v1/tenants/alpha/keys/${'-'.repeat(36)}`), 404, 'not_found');
    expectError(await stack.request('DELETE', '/v1/tenants/alpha/keys/%00'), 404, 'not_found', /"\\u0000"/);
  });

  it.each([
    ['a NUL', 'a\u0000b'],
    ['an unpaired surrogate', 'a\ud800'],
  ])('a session subject with %s is a 400, not a failed INSERT', async (_case, subject) => {
    const client = stack.clientId('/fuzz-subject.json');
    const res = await stack.request('POST', '/v1/tenants/alpha/sessions', {
      body: { session_id: 'fuzz-subject', client_id: client, subject },
    });
    expectError(res, 400, 'invalid_request', /subject: must not contain U\+0000 or an unpaired surrogate/);
  });

  it('a body with thousands of unknown fields gets a short description', async () => {
    const body = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 1]));
    const res = await stack.request('POST', '/v1/clients/refresh', { body });
    expectError(res, 400, 'invalid_request', /unknown field\(s\) k0, k1, .* and 4990 more/);
    expect(res.body.error_description.length).toBeLessThan(300);
  });

  it('a tenant id with invisible characters is quoted with escapes', async () => {
    const res = await stack.request('GET', `/v1/tenants/${encodeURIComponent('a\u202eb')}/policy`);
    expectError(res, 400, 'invalid_request', /^"a\\u202eb" is not a tenant id$/);
  });
});
