import * as grpc from '@grpc/grpc-js';
import type Redis from 'ioredis';
import type { grpc as messages } from '@cimd/contracts';
import { REDIS } from '@cimd/store';

type CheckAuthorizationResponse = messages.CheckAuthorizationResponse__Output;
type GetClientResponse = messages.GetClientResponse__Output;
import { ADMIN_TOKEN, documentFor, GatewayStack, startGatewayStack, startSoloGateway } from '../support/gateway-stack';
import { expectStatus, loadGatewayClient, metadataFor, ok, Reply, unaryCall } from '../support/grpc-client';

/**
 * The gRPC API (proto/cimd/v1/gateway.proto) end to end, called as an outside client would:
 * a real @grpc/grpc-js client loading the proto from the repository, against the gateway,
 * the fetcher process, real Redis and PostgreSQL, and a local HTTPS client host.
 */
let stack: GatewayStack;
let acmeKey: string;
let client: grpc.Client;
const GatewayClient = loadGatewayClient();

function call<T>(method: string, request: object, metadata: grpc.Metadata, on = client): Promise<Reply<T>> {
  return unaryCall<T>(on, method, request, metadata);
}

function check(request: object, token: string | null = acmeKey, on = client) {
  return call<CheckAuthorizationResponse>('CheckAuthorization', request, metadataFor(token), on);
}

function getClient(clientId: string | undefined, token: string | null = acmeKey, on = client) {
  return call<GetClientResponse>(
    'GetClient',
    clientId === undefined ? {} : { client_id: clientId },
    metadataFor(token),
    on,
  );
}

const IDN_HOST = 'xn--pple-43d.test';

function serve(path: string, extra: Record<string, unknown> = {}, host?: string): string {
  const id = stack.clientId(path, host);
  stack.origin.json(path, documentFor(id, extra));
  return id;
}

function authorizeRequest(clientId: string, extra: Record<string, unknown> = {}) {
  return {
    tenant: 'acme',
    client_id: clientId,
    redirect_uri: `https://${URL.canParse(clientId) ? new URL(clientId).host : 'client.test'}/callback`,
    code_challenge_method: 'S256',
    ...extra,
  };
}

/** The same request as the HTTP body (the tenant goes in the path). */
function httpCheck(request: Record<string, unknown>, token = acmeKey) {
  const { tenant, ...body } = request;
  return stack.request('POST', `/v1/tenants/${String(tenant)}/authorize/check`, { body, token });
}

beforeAll(async () => {
  // xn--pple-43d.test: "аpple.test" with a Cyrillic "а", in punycode.
  stack = await startGatewayStack('grpc', { hosts: ['client.test', 'other.test', IDN_HOST] });
  for (const id of ['acme', 'other']) {
    expect((await stack.request('POST', '/v1/tenants', { body: { id } })).status).toBe(201);
  }
  const strict = { id: 'no-idn', policy: { deny_idn_hosts: true } };
  expect((await stack.request('POST', '/v1/tenants', { body: strict })).status).toBe(201);
  acmeKey = (await stack.request('POST', '/v1/tenants/acme/keys')).body.key;
  client = new GatewayClient(`127.0.0.1:${stack.grpcPort}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe('gRPC cimd.v1.Gateway', () => {
  it('CheckAuthorization allows a served document, with the consent display and cache state', async () => {
    const id = serve('/grpc-allow.json');
    const response = ok(await check(authorizeRequest(id)));
    expect(response).toMatchObject({
      decision: 'allow',
      client: { client_id: id, host: 'client.test', name: 'Stack Test Client', redirect_host: 'client.test' },
      trust: { level: 'verified_origin' },
      cache: { status: 'fetched' },
    });
    expect(response.trust?.warnings).toContain('client.first_seen_recently');
    // Unset optional fields stay unset (proto3 `optional`), as they are absent from the HTTP body.
    expect(response).not.toHaveProperty('error');
    expect(response).not.toHaveProperty('reason');
    const cache = response.cache as NonNullable<CheckAuthorizationResponse['cache']>;
    expect(Date.parse(cache.expires_at ?? '')).toBeGreaterThan(Date.parse(cache.fetched_at ?? ''));
  });

  it('CheckAuthorization denies a redirect_uri the document does not register', async () => {
    const id = serve('/grpc-deny.json');
    const response = ok(await check(authorizeRequest(id, { redirect_uri: 'https://evil.example/callback' })));
    expect(response).toMatchObject({
      decision: 'deny',
      error: 'invalid_request',
      reason: 'redirect_uri.not_registered',
      client: { client_id: id },
    });
    expect(response.error_description).toEqual(expect.any(String));
  });

  it('gives the same answer as POST /v1/tenants/{tenant}/authorize/check for the same request', async () => {
    const id = serve('/grpc-parity.json', { client_uri: 'https://client.test/', tos_uri: 'https://client.test/tos' });
    await check(authorizeRequest(id)); // fetched; both answers below are cache hits
    const requests = [
      authorizeRequest(id),
      authorizeRequest(id, { redirect_uri: 'http://127.0.0.1:4711/callback', scope: 'openid' }),
      authorizeRequest(id, { redirect_uri: 'https://evil.example/callback' }),
      authorizeRequest(id, { response_type: 'token' }),
      authorizeRequest(id, { code_challenge_method: '' }),
      authorizeRequest(stack.clientId('/a/../b.json')),
      authorizeRequest('http://client.test/plain-http.json'),
    ];
    for (const request of requests) {
      const [viaGrpc, viaHttp] = await Promise.all([check(request), httpCheck(request)]);
      expect(viaHttp.status).toBe(200);
      expect({ request, answer: ok(viaGrpc) }).toEqual({ request, answer: viaHttp.body });
    }
  });

  it('a punycode client_id host: both forms and the client.idn_host warning, over gRPC as over HTTP (SPEC-NOTES 19)', async () => {
    const id = serve('/grpc-idn.json', {}, IDN_HOST);
    const request = authorizeRequest(id);
    await check(request); // fetched; the answers compared below are cache hits
    const [viaGrpc, viaHttp] = await Promise.all([check(request), httpCheck(request)]);
    expect(viaHttp.status).toBe(200);
    expect(ok(viaGrpc)).toEqual(viaHttp.body);
    expect(viaHttp.body).toMatchObject({
      decision: 'allow',
      client: { host: IDN_HOST, host_unicode: '\u0430pple.test', host_punycode: IDN_HOST },
      trust: { level: 'verified_origin' },
    });
    expect(viaHttp.body.trust.warnings).toContain('client.idn_host');
    // A tenant that refuses such hosts does so before anything is fetched, with its own rule.
    const before = stack.origin.hits('/grpc-idn-strict.json');
    const strict = { ...authorizeRequest(stack.clientId('/grpc-idn-strict.json', IDN_HOST)), tenant: 'no-idn' };
    const [deniedGrpc, deniedHttp] = await Promise.all([
      check(strict, stack.adminToken),
      httpCheck(strict, stack.adminToken),
    ]);
    expect(ok(deniedGrpc)).toEqual(deniedHttp.body);
    expect(deniedHttp.body).toMatchObject({
      decision: 'deny',
      error: 'unauthorized_client',
      reason: 'policy.idn_host_denied',
      client: { host_unicode: '\u0430pple.test', host_punycode: IDN_HOST },
    });
    expect(stack.origin.hits('/grpc-idn-strict.json')).toBe(before);
  });

  it('GetClient returns the cached record after a check, as GET /v1/clients does', async () => {
    const id = serve('/grpc-record.json');
    await check(authorizeRequest(id));
    const record = ok(await getClient(id)).client!;
    expect(record).toMatchObject({ client_id: id, status: 'valid', freshness: 'fresh', errors: [] });
    expect(JSON.parse(record.document_json ?? 'null')).toMatchObject({
      client_id: id,
      client_name: 'Stack Test Client',
    });

    const http = await stack.request('GET', `/v1/clients?client_id=${encodeURIComponent(id)}`, { token: acmeKey });
    expect(http.status).toBe(200);
    const { document, ...rest } = http.body;
    const { document_json, ...grpcRest } = record;
    expect(JSON.parse(document_json ?? 'null')).toEqual(document);
    // Repeated fields cannot be absent: HTTP leaves out the lists an entry does not have.
    expect(grpcRest).toEqual({ errors: [], warnings: [], ...rest });
    // The admin may read it too; an unknown client_id is NOT_FOUND.
    expect(ok(await getClient(id, stack.adminToken)).client?.client_id).toBe(id);
    expectStatus(await getClient(stack.clientId('/never-checked.json')), grpc.status.NOT_FOUND, 'not_found');
  });

  it('UNAUTHENTICATED without authorization metadata, with a bad token or another scheme', async () => {
    const request = authorizeRequest(stack.clientId('/grpc-auth.json'));
    const missing = expectStatus(await check(request, null), grpc.status.UNAUTHENTICATED, 'invalid_token');
    expect(missing.details).toContain('missing authorization metadata');
    expectStatus(await check(request, 'not-a-valid-token'), grpc.status.UNAUTHENTICATED, 'invalid_token');
    expectStatus(
      await check(request, `cimd_00000000-0000-0000-0000-000000000000_${'a'.repeat(43)}`),
      grpc.status.UNAUTHENTICATED,
      'invalid_token',
    );
    const basic = new grpc.Metadata();
    basic.set('authorization', 'Basic YWRtaW46YWRtaW4=');
    expectStatus(await call('CheckAuthorization', request, basic), grpc.status.UNAUTHENTICATED, 'invalid_token');
    expectStatus(await getClient(stack.clientId('/x.json'), null), grpc.status.UNAUTHENTICATED, 'invalid_token');
    expect(stack.origin.hits('/grpc-auth.json')).toBe(0);
  });

  it("PERMISSION_DENIED for another tenant's key", async () => {
    const request = { ...authorizeRequest(stack.clientId('/grpc-other.json')), tenant: 'other' };
    expectStatus(await check(request), grpc.status.PERMISSION_DENIED, 'access_denied');
    // Even for a tenant that does not exist: a key learns nothing about other tenants.
    expectStatus(await check({ ...request, tenant: 'no-such-tenant' }), grpc.status.PERMISSION_DENIED, 'access_denied');
  });

  it('NOT_FOUND for an unknown tenant (admin)', async () => {
    const request = { ...authorizeRequest(stack.clientId('/grpc-nobody.json')), tenant: 'no-such-tenant' };
    const e = expectStatus(await check(request, stack.adminToken), grpc.status.NOT_FOUND, 'not_found');
    expect(e.details).toContain('no-such-tenant');
  });

  it('INVALID_ARGUMENT for a client_id that is not a URL, and for missing or malformed fields', async () => {
    const id = stack.clientId('/grpc-invalid.json');
    const cases: [object, string][] = [
      [authorizeRequest('notaurl'), 'is not an absolute URL'],
      [authorizeRequest('not a url'), 'contains a space'],
      [authorizeRequest(''), 'client_id is required'],
      [{ tenant: 'acme', redirect_uri: 'https://client.test/callback' }, 'client_id is required'],
      [{ tenant: 'acme', client_id: id }, 'redirect_uri is required'],
      [{ client_id: id, redirect_uri: 'https://client.test/callback' }, 'tenant is required'],
      [{ ...authorizeRequest(id), tenant: 'NOT A TENANT' }, 'is not a tenant id'],
      [authorizeRequest(`https://client.test/${'a'.repeat(9000)}`), 'client_id'],
      [authorizeRequest(id, { scope: 's'.repeat(9000) }), 'scope'],
    ];
    for (const [request, mentions] of cases) {
      const e = expectStatus(await check(request, stack.adminToken), grpc.status.INVALID_ARGUMENT, 'invalid_request');
      expect(e.details).toContain(mentions);
    }
    expectStatus(await getClient(undefined), grpc.status.INVALID_ARGUMENT, 'invalid_request');
    expect(stack.origin.hits('/grpc-invalid.json')).toBe(0);
  });

  it('a malformed or oversized message fails that call only; the server keeps serving', async () => {
    const raw = (bytes: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        client.makeUnaryRequest(
          '/cimd.v1.Gateway/CheckAuthorization',
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          metadataFor(acmeKey),
          { deadline: Date.now() + 10_000 },
          (error) => resolve(error),
        );
      });
    // Not protobuf at all: a bad request (not INTERNAL, which would say the server failed).
    const garbage = await raw(Buffer.from([0xff, 0xff, 0xff]));
    expect(garbage?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(garbage?.details).toMatch(/^invalid_request: the request is not a well-formed protobuf message/);
    expect(garbage?.metadata.get('cimd-error')).toEqual(['invalid_request']);
    // Protobuf whose client_id is not UTF-8: decoded with a replacement character, refused by the rules.
    const notUtf8 = Buffer.concat([Buffer.from('\x0a\x04acme\x12\x02', 'latin1'), Buffer.from([0xc3, 0x28])]);
    expect((await raw(notUtf8))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    // Larger than the 64 KiB message limit (as the HTTP body limit).
    const huge = await check(authorizeRequest(`https://client.test/${'a'.repeat(100_000)}`));
    expect(huge.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    // A method the service does not have.
    const unknown = await new Promise<grpc.ServiceError | null>((resolve) => {
      client.makeUnaryRequest(
        '/cimd.v1.Gateway/NoSuchMethod',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        new grpc.Metadata(),
        (error) => resolve(error),
      );
    });
    expect(unknown?.code).toBe(grpc.status.UNIMPLEMENTED);

    const id = serve('/grpc-after-garbage.json');
    expect(ok(await check(authorizeRequest(id)))).toMatchObject({ decision: 'allow' });
    // A fresh connection works as well.
    const fresh = new GatewayClient(`127.0.0.1:${stack.grpcPort}`, grpc.credentials.createInsecure());
    try {
      expect(ok(await check(authorizeRequest(id), acmeKey, fresh))).toMatchObject({
        decision: 'allow',
        cache: { status: 'hit' },
      });
    } finally {
      fresh.close();
    }
  });

  it('UNAVAILABLE while the cache is unreachable; a decision that cannot be made is "pending", as over HTTP', async () => {
    const redis = stack.app.get<Redis>(REDIS);
    const id = serve('/grpc-redis-down.json');
    redis.disconnect();
    try {
      const e = expectStatus(await getClient(id), grpc.status.UNAVAILABLE, 'temporarily_unavailable');
      expect(e.details).toContain('the client cache is unreachable');
      const answer = ok(await check(authorizeRequest(id)));
      expect(answer).toMatchObject({ decision: 'pending', error: 'temporarily_unavailable', reason: 'client.pending' });
      expect(answer).toEqual((await httpCheck(authorizeRequest(id))).body);
    } finally {
      await redis.connect();
    }
    expect(ok(await check(authorizeRequest(id))).decision).toBe('allow');
  });

  it('counts calls by method and status in /metrics', async () => {
    const metrics = await fetch(`${stack.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/cimd_grpc_request_duration_seconds_count\{rpc="CheckAuthorization",code="OK"\} \d+/);
    expect(metrics).toMatch(/cimd_grpc_request_duration_seconds_count\{rpc="GetClient",code="NOT_FOUND"\} \d+/);
  });
});

describe('gRPC server lifecycle', () => {
  it('app.close() lets a call in flight finish, then stops serving', async () => {
    // A gateway of its own on this file's database, with its own key prefix: no fetcher serves
    // its queue, so a check of an uncached client waits the whole CIMD_AUTHORIZE_WAIT_MS.
    const { app, grpcPort, dispose } = await startSoloGateway(stack, 'grpc', 1500);
    const solo = new GatewayClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    let closed = false;
    try {
      await app.init();
      await app.startAllMicroservices();
      const inFlight = check(authorizeRequest(serve('/grpc-drain.json')), acmeKey, solo);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const closing = app.close().then(() => (closed = true));
      expect(ok(await inFlight)).toMatchObject({ decision: 'pending', error: 'temporarily_unavailable' });
      await closing;
      // Nobody listens any more: the client's own UNAVAILABLE, not one from the gateway.
      const after = await getClient('https://client.test/x', ADMIN_TOKEN, solo);
      expect(after.error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(after.error?.metadata.get('cimd-error')).toEqual([]);
    } finally {
      solo.close();
      await dispose(closed);
    }
  });
});
