import { Canary, waitFor } from '@cimd/testing';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';
import * as grpc from '@grpc/grpc-js';
import { expectStatus, loadGatewayClient, metadataFor, ok, unaryCall } from '../support/grpc-client';

/**
 * Client authentication at a tenant's token endpoint (SPEC-NOTES 26, 27, 30) end to end: the
 * gateway, the fetcher process fetching documents and jwks_uri from a local HTTPS origin, real
 * Redis for the cache and the single use of jtis.
 */
let stack: GatewayStack;
const AS = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

type CryptoKey = Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];

interface Key {
  kid: string;
  alg: string;
  jwk: JWK;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function key(kid: string, alg = 'RS256'): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A signed client assertion for `clientId`, good unless `claims` or `header` change it. */
async function assertion(
  clientId: string,
  k: Key,
  change: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: AS.issuer,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    ...change.claims,
  };
  for (const [name, value] of Object.entries(change.claims ?? {})) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg: k.alg, kid: k.kid, ...change.header }).sign(k.privateKey);
}

function authenticate(body: Record<string, unknown>, tenant = 'acme') {
  return stack.request('POST', `/v1/tenants/${tenant}/clients/authenticate`, { body });
}

/** Serve a private_key_jwt client whose keys are at `/<name>.jwks` (or inline, with `inline`). */
function confidential(name: string, keys: JWK[], extra: Record<string, unknown> = {}, inline = false): string {
  const id = stack.clientId(`/${name}.json`);
  const jwks = { keys };
  if (!inline) stack.origin.json(`/${name}.jwks`, jwks);
  stack.origin.json(
    `/${name}.json`,
    documentFor(id, {
      token_endpoint_auth_method: 'private_key_jwt',
      ...(inline ? { jwks } : { jwks_uri: stack.clientId(`/${name}.jwks`) }),
      ...extra,
    }),
  );
  return id;
}

const withAssertion = (clientId: string, jwt: string) => ({
  client_id: clientId,
  client_assertion_type: JWT_BEARER,
  client_assertion: jwt,
});

beforeAll(async () => {
  stack = await startGatewayStack('client-auth');
  for (const [id, policy] of [
    ['acme', AS],
    ['bare', {}],
    ['typed', { ...AS, require_assertion_typ: true }],
  ] as const) {
    expect((await stack.request('POST', '/v1/tenants', { body: { id, policy } })).status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('authenticate a private_key_jwt client (SPEC-NOTES 26)', () => {
  let rsa: Key;
  let inlineId: string;
  let uriId: string;

  beforeAll(async () => {
    rsa = await key('rsa-1');
    inlineId = confidential('inline', [rsa.jwk], {}, true);
    uriId = confidential('by-uri', [rsa.jwk]);
  });

  it('accepts a valid assertion signed with a key from the inline jwks', async () => {
    const res = await authenticate(withAssertion(inlineId, await assertion(inlineId, rsa)));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      authenticated: true,
      method: 'private_key_jwt',
      client: { client_id: inlineId, host: 'client.test', name: 'Stack Test Client' },
    });
  });

  it('accepts a valid assertion signed with a key from jwks_uri, fetched by the fetcher (SPEC-NOTES 27)', async () => {
    const res = await authenticate(withAssertion(uriId, await assertion(uriId, rsa)));
    expect(res.body).toMatchObject({ authenticated: true, method: 'private_key_jwt' });
    expect(stack.origin.hits('/by-uri.jwks')).toBe(1);
    // The cached record shows the key set it holds.
    const record = await stack.request('GET', `/v1/clients?client_id=${encodeURIComponent(uriId)}`);
    expect(record.body.keys).toMatchObject({
      jwks_uri: stack.clientId('/by-uri.jwks'),
      status: 'valid',
      key_ids: ['rsa-1'],
    });
  });

  it('accepts an aud that names the token endpoint, and typ oauth-client-auth+jwt', async () => {
    const jwt = await assertion(uriId, rsa, {
      claims: { aud: [AS.token_endpoint] },
      header: { typ: 'oauth-client-auth+jwt' },
    });
    expect((await authenticate(withAssertion(uriId, jwt))).body).toMatchObject({ authenticated: true });
  });

  it('refuses a replayed jti, fleet-wide state in Redis', async () => {
    const jwt = await assertion(uriId, rsa);
    expect((await authenticate(withAssertion(uriId, jwt))).body.authenticated).toBe(true);
    expect((await authenticate(withAssertion(uriId, jwt))).body).toMatchObject({
      authenticated: false,
      error: 'invalid_client',
      reason: 'client_auth.replayed',
    });
  });

  it('accepts one of the same assertion sent many times at once, and fresh ones of the same moment (jtis recorded together)', async () => {
    const jwt = await assertion(uriId, rsa);
    const fresh = await Promise.all(Array.from({ length: 10 }, () => assertion(uriId, rsa)));
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => authenticate(withAssertion(uriId, jwt))),
      ...fresh.map((other) => authenticate(withAssertion(uriId, other))),
    ]);
    const replayed = answers.slice(0, 10).map((a): unknown => a.body.authenticated);
    expect(replayed.filter((a) => a === true)).toHaveLength(1);
    expect(answers.slice(0, 10).filter((a) => a.body.reason === 'client_auth.replayed')).toHaveLength(9);
    expect(answers.slice(10).every((a) => a.body.authenticated === true)).toBe(true);
  });

  it.each([
    ['a wrong aud', { claims: { aud: 'https://other.example' } }, 'client_auth.aud_mismatch'],
    ['iss of another client', { claims: { iss: 'https://evil.test/c.json' } }, 'client_auth.iss_mismatch'],
    ['sub of another client', { claims: { sub: 'https://evil.test/c.json' } }, 'client_auth.sub_mismatch'],
    ['an expired assertion', { claims: { iat: 1_700_000_000, exp: 1_700_000_060 } }, 'client_auth.expired'],
    [
      'a too long-lived assertion',
      { claims: { iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 } },
      'client_auth.lifetime_too_long',
    ],
    [
      'an iat in the future',
      { claims: { iat: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 700 } },
      'client_auth.not_yet_valid',
    ],
    ['no jti', { claims: { jti: undefined } }, 'client_auth.jti_missing'],
    ['no exp', { claims: { exp: undefined } }, 'client_auth.exp_missing'],
    ['a typ of another kind of token', { header: { typ: 'at+jwt' } }, 'client_auth.typ_not_allowed'],
  ])('refuses %s, naming the rule', async (_name, change, reason) => {
    const res = await authenticate(withAssertion(uriId, await assertion(uriId, rsa, change)));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      authenticated: false,
      method: 'private_key_jwt',
      error: 'invalid_client',
      reason,
    });
    expect(res.body.error_description.length).toBeGreaterThan(20);
  });

  it('refuses alg none, whatever the claims (RFC 8725 §3.1)', async () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ alg: 'none' })}.${enc({ iss: uriId, sub: uriId, aud: AS.issuer, exp: now + 60, jti: randomUUID() })}.`;
    expect((await authenticate(withAssertion(uriId, unsigned))).body).toMatchObject({
      authenticated: false,
      reason: 'client_auth.alg_not_allowed',
    });
  });

  it("refuses HS256 signed with the bytes of the client's public key (key confusion)", async () => {
    const secret = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({
      iss: uriId,
      sub: uriId,
      aud: AS.issuer,
      iat: now,
      exp: now + 60,
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .sign(secret);
    expect((await authenticate(withAssertion(uriId, forged))).body).toMatchObject({
      authenticated: false,
      reason: 'client_auth.alg_not_allowed',
    });
  });

  it('refuses a signature made by another key under the same kid', async () => {
    const impostor = { ...(await key('rsa-1')) };
    expect((await authenticate(withAssertion(uriId, await assertion(uriId, impostor)))).body).toMatchObject({
      authenticated: false,
      reason: 'client_auth.bad_signature',
    });
  });

  it('refuses what is not a JWT, and a wrong client_assertion_type', async () => {
    expect((await authenticate(withAssertion(uriId, 'not-a-jwt'))).body.reason).toBe('client_auth.malformed');
    expect(
      (
        await authenticate({
          client_id: uriId,
          client_assertion_type: 'urn:x',
          client_assertion: await assertion(uriId, rsa),
        })
      ).body.reason,
    ).toBe('client_auth.assertion_type_unsupported');
  });

  it('requires an assertion from a client that offers only private_key_jwt', async () => {
    expect((await authenticate({ client_id: uriId })).body).toMatchObject({
      authenticated: false,
      method: 'private_key_jwt',
      reason: 'client_auth.assertion_required',
    });
  });

  it('a tenant without issuer and token_endpoint refuses it, saying what the tenant must set', async () => {
    const res = await authenticate(withAssertion(uriId, await assertion(uriId, rsa)), 'bare');
    expect(res.body).toMatchObject({ authenticated: false, reason: 'client_auth.tenant_not_configured' });
    expect(res.body.error_description).toMatch(/issuer and token_endpoint/);
  });

  it('a tenant that requires the explicit typ refuses "JWT" and accepts oauth-client-auth+jwt', async () => {
    expect(
      (await authenticate(withAssertion(uriId, await assertion(uriId, rsa, { header: { typ: 'JWT' } })), 'typed')).body
        .reason,
    ).toBe('client_auth.typ_not_allowed');
    const typed = await assertion(uriId, rsa, { header: { typ: 'oauth-client-auth+jwt' } });
    expect((await authenticate(withAssertion(uriId, typed), 'typed')).body.authenticated).toBe(true);
  });
});

describe('public clients', () => {
  it('a none client is authenticated without an assertion, and refused with one', async () => {
    const id = stack.clientId('/public.json');
    stack.origin.json('/public.json', documentFor(id));
    expect((await authenticate({ client_id: id })).body).toEqual({
      authenticated: true,
      method: 'none',
      client: { client_id: id, host: 'client.test', name: 'Stack Test Client' },
    });
    const k = await key('k');
    expect((await authenticate(withAssertion(id, await assertion(id, k)))).body).toMatchObject({
      authenticated: false,
      method: 'none',
      reason: 'client_auth.assertion_not_allowed',
    });
  });

  it('a client offering none and private_key_jwt (ChatGPT) may use either at a tenant that checks assertions, none elsewhere', async () => {
    const k = await key('both-1');
    const id = confidential('both', [k.jwk], { token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'] });
    expect((await authenticate({ client_id: id })).body).toMatchObject({ authenticated: true, method: 'none' });
    expect((await authenticate(withAssertion(id, await assertion(id, k)))).body).toMatchObject({
      authenticated: true,
      method: 'private_key_jwt',
    });
    expect((await authenticate({ client_id: id }, 'bare')).body).toMatchObject({ authenticated: true, method: 'none' });
    expect((await authenticate(withAssertion(id, await assertion(id, k)), 'bare')).body.reason).toBe(
      'client_auth.assertion_not_allowed',
    );
  });
});

describe('keys at jwks_uri: rotation, single fetch, limits (SPEC-NOTES 27, 30)', () => {
  it('an unknown kid fetches the keys once (100 concurrent checks, one origin request), then the rotated key is accepted', async () => {
    const first = await key('v1');
    const id = confidential('rotating', [first.jwk]);
    expect((await authenticate(withAssertion(id, await assertion(id, first)))).body.authenticated).toBe(true);
    expect(stack.origin.hits('/rotating.jwks')).toBe(1);

    // The client rotates: its jwks_uri now serves v2 only.
    const second = await key('v2');
    stack.origin.json('/rotating.jwks', { keys: [second.jwk] });
    const jwts = await Promise.all(Array.from({ length: 100 }, () => assertion(id, second)));
    const answers = await Promise.all(jwts.map((jwt) => authenticate(withAssertion(id, jwt))));
    expect(answers.map((a) => a.body.authenticated as boolean)).toEqual(Array<boolean>(100).fill(true));
    expect(stack.origin.hits('/rotating.jwks')).toBe(2);

    // Within the minute, another unknown kid does not fetch the keys again.
    const third = await key('v3');
    expect((await authenticate(withAssertion(id, await assertion(id, third)))).body).toMatchObject({
      authenticated: false,
      reason: 'client_auth.unknown_key',
    });
    expect(stack.origin.hits('/rotating.jwks')).toBe(2);
  });

  it('a new key set is a change of keys: a session of the client is revoked (on_change.keys: revoke)', async () => {
    const first = await key('r1');
    const id = confidential('revoked-on-rotation', [first.jwk]);
    expect((await authenticate(withAssertion(id, await assertion(id, first)))).body.authenticated).toBe(true);
    const session = await stack.request('POST', '/v1/tenants/acme/sessions', {
      body: { session_id: 'rot-1', client_id: id },
    });
    expect(session.status).toBe(201);
    const next = await key('r2');
    stack.origin.json('/revoked-on-rotation.jwks', { keys: [next.jwk] });
    expect((await authenticate(withAssertion(id, await assertion(id, next)))).body.authenticated).toBe(true);
    await waitFor(
      async () => (await stack.request('GET', '/v1/tenants/acme/sessions/rot-1')).body.active === false,
      'the session to be revoked',
    );
    expect((await stack.request('GET', '/v1/tenants/acme/sessions/rot-1')).body).toMatchObject({
      active: false,
      reason: 'client.changed:keys',
    });
  });

  it('a jwks_uri on a special-use address is never connected to: the keys are unavailable', async () => {
    const canary = new Canary();
    await canary.listen('127.0.0.2', stack.origin.port);
    try {
      const k = await key('ssrf');
      const id = stack.clientId('/ssrf-keys.json');
      stack.origin.json(
        '/ssrf-keys.json',
        documentFor(id, {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: `https://127.0.0.2:${stack.origin.port}/jwks.json`,
        }),
      );
      const res = await authenticate(withAssertion(id, await assertion(id, k)));
      expect(res.body).toMatchObject({ authenticated: false, reason: 'client_auth.keys_unavailable' });
      const record = await stack.request('GET', `/v1/clients?client_id=${encodeURIComponent(id)}`);
      expect(record.body.keys).toMatchObject({ status: 'invalid', errors: [{ code: 'fetch.blocked_address' }] });
      expect(canary.connections).toBe(0);
    } finally {
      await canary.close();
    }
  });

  it('a key set over CIMD_FETCH_JWKS_MAX_BYTES is refused whole', async () => {
    const k = await key('big');
    const padding = Array.from({ length: 100 }, (_, i) => ({ ...k.jwk, kid: `pad-${i}` }));
    const id = confidential('oversize', [k.jwk, ...padding]);
    expect((await authenticate(withAssertion(id, await assertion(id, k)))).body.reason).toBe(
      'client_auth.keys_unavailable',
    );
    const record = await stack.request('GET', `/v1/clients?client_id=${encodeURIComponent(id)}`);
    expect(record.body.keys).toMatchObject({ status: 'invalid', errors: [{ code: 'fetch.too_large' }] });
  });

  it('a private key in the set makes the set unusable', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const leaked = { ...(await exportJWK(privateKey)), kid: 'leaked' };
    const id = confidential('leaky', [leaked]);
    const signer = { kid: 'leaked', alg: 'RS256', jwk: leaked, privateKey, publicKey: privateKey };
    expect((await authenticate(withAssertion(id, await assertion(id, signer)))).body.reason).toBe(
      'client_auth.keys_unavailable',
    );
    const record = await stack.request('GET', `/v1/clients?client_id=${encodeURIComponent(id)}`);
    expect(record.body.keys).toMatchObject({ status: 'invalid', errors: [{ code: 'keys.private_key' }] });
  });
});

describe('the API around it', () => {
  it('a malformed request is a 400; an unknown tenant a 404; another tenant key a 403', async () => {
    expect((await authenticate({})).status).toBe(400);
    expect((await authenticate({ client_id: 'x', extra: 1 })).status).toBe(400);
    // Refused inside the service (the lean route's errors go through the same filter as the controller's).
    const halfSent = await authenticate({ client_id: 'https://client.test/x.json', client_assertion_type: JWT_BEARER });
    expect(halfSent.status).toBe(400);
    expect(halfSent.body).toEqual({
      error: 'invalid_request',
      error_description: 'client_assertion_type was sent without client_assertion',
    });
    const unknownTenant = await authenticate({ client_id: 'https://client.test/x.json' }, 'nobody');
    expect(unknownTenant.status).toBe(404);
    expect(unknownTenant.body).toMatchObject({ error: 'not_found' });
    const key2 = (await stack.request('POST', '/v1/tenants/bare/keys')).body.key as string;
    const res = await stack.request('POST', '/v1/tenants/acme/clients/authenticate', {
      body: { client_id: 'https://client.test/x.json' },
      token: key2,
    });
    expect(res.status).toBe(403);
  });

  it('an uncached client whose document cannot be had in time is pending, as an authorize check is', async () => {
    const id = stack.clientId('/slow-auth.json');
    stack.origin.route('/slow-auth.json', () => undefined); // never answers; the fetcher gives up after its timeout
    const res = await authenticate({ client_id: id });
    expect(res.body).toMatchObject({
      authenticated: false,
      error: 'temporarily_unavailable',
      reason: 'client.pending',
    });
  });

  it('GET authorization-server-metadata: the RFC 8414 members for what the gateway does for the tenant', async () => {
    expect((await stack.request('GET', '/v1/tenants/acme/authorization-server-metadata')).body).toEqual({
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['RS256', 'ES256', 'EdDSA']),
      code_challenge_methods_supported: ['S256'],
    });
    // Without issuer and token_endpoint the tenant cannot check assertions, so does not advertise them.
    expect((await stack.request('GET', '/v1/tenants/bare/authorization-server-metadata')).body).toEqual({
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: ['none'],
      code_challenge_methods_supported: ['S256'],
    });
  });

  it('gRPC AuthenticateClient answers as the HTTP route does', async () => {
    const Gateway = loadGatewayClient();
    const client = new Gateway(`127.0.0.1:${stack.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const k = await key('grpc-1');
      const id = confidential('grpc-auth', [k.jwk]);
      const call = (request: object) =>
        unaryCall<Record<string, unknown>>(client, 'AuthenticateClient', request, metadataFor(stack.adminToken));
      expect(ok(await call({ tenant: 'acme', ...withAssertion(id, await assertion(id, k)) }))).toMatchObject({
        authenticated: true,
        method: 'private_key_jwt',
      });
      expect(ok(await call({ tenant: 'acme', client_id: id }))).toMatchObject({
        authenticated: false,
        reason: 'client_auth.assertion_required',
      });
      expectStatus(await call({ tenant: 'acme' }), grpc.status.INVALID_ARGUMENT, 'invalid_request');
    } finally {
      client.close();
    }
  });
});
