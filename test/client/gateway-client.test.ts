import {
  CimdGateway,
  GatewayError,
  GrpcGatewayClient,
  HttpGatewayClient,
  mayRedirectError,
  RetryPolicy,
  TenantEvent,
} from '@cimd/client';
import { freePort, waitFor } from '@cimd/testing';
import * as grpc from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { documentFor, GatewayStack, startGatewayStack, startSoloGateway } from '../support/gateway-stack';

/**
 * @cimd/client against a real gateway (in this process), the real fetcher and a local HTTPS
 * origin, over both transports: the same calls, answers and errors whether HTTP or gRPC.
 */
let stack: GatewayStack;
let acmeKey: string;
let otherKey: string;
const AS = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FAST: Partial<RetryPolicy> = { baseDelayMs: 50, maxDelayMs: 200 };

type Transport = 'http' | 'grpc';

interface Made {
  gateway: CimdGateway;
  /** Requests (HTTP) or calls (gRPC) sent to the gateway so far. */
  sent(): number;
}

function make(
  transport: Transport,
  options: { token?: string; tenant?: string; timeoutMs?: number; retry?: Partial<RetryPolicy> } = {},
  at: { url?: string; grpcPort?: number } = {},
): Made {
  let sent = 0;
  const common = {
    tenant: options.tenant ?? 'acme',
    token: options.token ?? acmeKey,
    retry: options.retry ?? FAST,
    reconnect: { baseDelayMs: 50, maxDelayMs: 500 },
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };
  if (transport === 'http') {
    const gateway = new HttpGatewayClient({
      ...common,
      url: at.url ?? stack.url,
      pollIntervalMs: 50,
      fetch: (input, init) => {
        sent++;
        return fetch(input, init);
      },
    });
    return { gateway, sent: () => sent };
  }
  const counting: grpc.Interceptor = (opts, next) => {
    sent++;
    return new grpc.InterceptingCall(next(opts));
  };
  const gateway = new GrpcGatewayClient({
    ...common,
    address: `127.0.0.1:${at.grpcPort ?? stack.grpcPort}`,
    credentials: grpc.credentials.createInsecure(),
    clientOptions: { interceptors: [counting] },
  });
  return { gateway, sent: () => sent };
}

const opened: CimdGateway[] = [];
function client(transport: Transport, options?: Parameters<typeof make>[1], at?: Parameters<typeof make>[2]): Made {
  const made = make(transport, options, at);
  opened.push(made.gateway);
  return made;
}

/** An origin route that answers after `ms` (the document, or nothing at all when `ms` is Infinity). */
function slowly(ms: number, body: unknown) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    if (ms === Infinity) return;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)), ms);
  };
}

/** Serve a valid document for a new client and return its client_id. */
function serve(path: string): string {
  const id = stack.clientId(path);
  stack.origin.json(path, documentFor(id), { 'cache-control': 'max-age=600' });
  return id;
}

const callback = (clientId: string) => `https://${new URL(clientId).host}/callback`;

/** Make a client's document vanish and have the fetcher look now: its sessions end, a session.revoked follows. */
async function vanish(path: string, clientId: string): Promise<void> {
  stack.origin.route(path, (_req, res) => res.writeHead(404).end());
  expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: clientId } })).status).toBe(202);
}

/** The tenant's stored events about `clientId`. */
async function storedEvent(clientId: string): Promise<TenantEvent> {
  return waitFor(async () => {
    const { body } = await stack.request('GET', '/v1/tenants/acme/events?after=0&limit=1000');
    return (body.events as TenantEvent[]).find((e) => e.client_id === clientId);
  }, `the session.revoked event of ${clientId}`);
}

beforeAll(async () => {
  stack = await startGatewayStack('client-lib', {
    fetcherEnv: { CIMD_GONE_CONFIRM_DELAY_MS: '300' },
    gatewayEnv: { CIMD_AUTHORIZE_WAIT_MS: '1000' },
  });
  for (const [id, policy] of [
    ['acme', AS],
    ['other', {}],
  ] as const)
    expect((await stack.request('POST', '/v1/tenants', { body: { id, policy } })).status).toBe(201);
  acmeKey = (await stack.request('POST', '/v1/tenants/acme/keys')).body.key;
  otherKey = (await stack.request('POST', '/v1/tenants/other/keys')).body.key;
}, 60_000);

afterAll(async () => {
  for (const gateway of opened) gateway.close();
  await stack?.stop();
});

describe('@cimd/client over http only', () => {
  it("reads the RFC 8414 members the tenant's AS publishes", async () => {
    const { gateway } = client('http');
    expect(await (gateway as HttpGatewayClient).authorizationServerMetadata()).toEqual({
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['ES256', 'RS256', 'EdDSA']),
      code_challenge_methods_supported: ['S256'],
    });
  });
});

describe.each<Transport>(['http', 'grpc'])('@cimd/client over %s', (transport) => {
  describe('authorize checks', () => {
    it('allows a valid client with what a consent screen shows, in one call', async () => {
      const id = serve(`/${transport}/allowed.json`);
      const { gateway, sent } = client(transport);
      const decision = await gateway.checkAuthorization({
        client_id: id,
        redirect_uri: callback(id),
        code_challenge_method: 'S256',
      });
      expect(decision).toMatchObject({
        decision: 'allow',
        attempts: 1,
        client: {
          client_id: id,
          host: new URL(id).hostname,
          name: 'Stack Test Client',
          redirect_host: new URL(id).hostname,
        },
        trust: { level: 'verified_origin' },
        cache: { status: 'fetched' },
      });
      expect(sent()).toBe(1);
    });

    it('never retries a deny, and a deny for an unregistered redirect_uri may not be redirected', async () => {
      const id = serve(`/${transport}/denied.json`);
      const { gateway, sent } = client(transport);
      const decision = await gateway.checkAuthorization({
        client_id: id,
        redirect_uri: 'https://evil.example/callback',
        code_challenge_method: 'S256',
      });
      expect(decision).toMatchObject({ decision: 'deny', error: 'invalid_request', attempts: 1 });
      expect(mayRedirectError(decision)).toBe(false);
      expect(sent()).toBe(1);
    });

    it('a deny the gateway lets go back to a verified redirect_uri says so (a public client without PKCE)', async () => {
      const id = serve(`/${transport}/no-pkce.json`);
      const { gateway } = client(transport);
      const decision = await gateway.checkAuthorization({ client_id: id, redirect_uri: callback(id) });
      expect(decision).toMatchObject({ decision: 'deny', reason: 'pkce.required', redirect: true, attempts: 1 });
      expect(mayRedirectError(decision)).toBe(true);
    });

    it('retries a pending answer until the document is there, with one fetch at the origin', async () => {
      const path = `/${transport}/slow.json`;
      const id = stack.clientId(path);
      stack.origin.route(path, slowly(1_500, documentFor(id)));
      const { gateway, sent } = client(transport, { retry: { ...FAST, attempts: 5, budgetMs: 10_000 } });
      const decision = await gateway.checkAuthorization({
        client_id: id,
        redirect_uri: callback(id),
        code_challenge_method: 'S256',
      });
      expect(decision.decision).toBe('allow');
      expect(decision.attempts).toBeGreaterThan(1);
      expect(sent()).toBe(decision.attempts);
      expect(stack.origin.hits(path)).toBe(1);
    }, 20_000);

    it('returns pending once the retries are spent, never a deny', async () => {
      const path = `/${transport}/hanging.json`;
      const id = stack.clientId(path);
      stack.origin.route(path, slowly(Infinity, {}));
      const { gateway, sent } = client(transport, { retry: { ...FAST, attempts: 2 } });
      const decision = await gateway.checkAuthorization({ client_id: id, redirect_uri: callback(id) });
      expect(decision).toMatchObject({ decision: 'pending', error: 'temporarily_unavailable', attempts: 2 });
      expect(mayRedirectError(decision)).toBe(false);
      expect(sent()).toBe(2);
    }, 20_000);

    it('gives up after its timeout with a timeout error', async () => {
      const path = `/${transport}/timeout.json`;
      const id = stack.clientId(path);
      stack.origin.route(path, slowly(Infinity, {}));
      const { gateway } = client(transport, { timeoutMs: 200 });
      const e = await gateway
        .checkAuthorization({ client_id: id, redirect_uri: callback(id) })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(GatewayError);
      expect(e).toMatchObject({ error: 'timeout' });
    });
  });

  describe('errors as the OAuth-style pair, typed', () => {
    it.each<
      [string, { token?: string; tenant?: string }, { client_id: string; redirect_uri: string } | undefined, string]
    >([
      ['a malformed client_id', {}, { client_id: 'not a url', redirect_uri: 'https://x.test/cb' }, 'invalid_request'],
      ['an unknown key', { token: 'cimd_nope_nope' }, undefined, 'invalid_token'],
      ["another tenant's key", { token: 'other' }, undefined, 'access_denied'],
      ['an unknown tenant (admin token)', { tenant: 'nobody', token: 'admin' }, undefined, 'not_found'],
    ])('%s', async (_what, options, request, error) => {
      const token = options.token === 'other' ? otherKey : options.token === 'admin' ? stack.adminToken : options.token;
      const { gateway, sent } = client(transport, { ...options, ...(token !== undefined ? { token } : {}) });
      const e = await gateway
        .checkAuthorization(request ?? { client_id: stack.clientId('/x.json'), redirect_uri: 'https://x.test/cb' })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(GatewayError);
      expect(e).toMatchObject({ error, description: expect.any(String) });
      expect((e as GatewayError).description).not.toMatch(/^[a-z_]+: /);
      expect(sent()).toBe(1);
    });

    it('an unreachable gateway is `unreachable`, after the retries of an idempotent call', async () => {
      const port = await freePort();
      const { gateway, sent } = client(
        transport,
        { retry: { ...FAST, attempts: 2 } },
        { url: `http://127.0.0.1:${port}`, grpcPort: port },
      );
      await expect(gateway.checkSession('s')).rejects.toMatchObject({ error: 'unreachable' });
      expect(sent()).toBe(2);
    });
  });

  describe('client authentication', () => {
    it('authenticates a public client without an assertion, and a private_key_jwt client with one, once', async () => {
      const { gateway, sent } = client(transport);
      const open = serve(`/${transport}/public-auth.json`);
      expect(await gateway.authenticateClient({ client_id: open })).toMatchObject({
        authenticated: true,
        method: 'none',
        attempts: 1,
      });

      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      const id = stack.clientId(`/${transport}/agent.json`);
      stack.origin.json(
        `/${transport}/agent.json`,
        documentFor(id, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } }),
      );
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({ iss: id, sub: id, aud: AS.issuer, iat: now, exp: now + 60, jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .sign(privateKey);
      const request = { client_id: id, client_assertion_type: JWT_BEARER, client_assertion: jwt };
      expect(await gateway.authenticateClient({ client_id: id })).toMatchObject({
        authenticated: false,
        method: 'private_key_jwt',
        error: 'invalid_client',
        reason: expect.any(String),
      });
      expect(await gateway.authenticateClient(request)).toMatchObject({
        authenticated: true,
        method: 'private_key_jwt',
        client: { client_id: id },
      });
      const before = sent();
      const replayed = await gateway.authenticateClient(request);
      expect(replayed).toMatchObject({ authenticated: false, error: 'invalid_client', attempts: 1 });
      expect(sent() - before).toBe(1);
    });
  });

  describe('client look-ups', () => {
    it('returns the validated document, and undefined for a client never fetched', async () => {
      const id = serve(`/${transport}/looked-up.json`);
      const { gateway } = client(transport);
      expect(await gateway.getClient(id)).toBeUndefined();
      await gateway.checkAuthorization({ client_id: id, redirect_uri: callback(id), code_challenge_method: 'S256' });
      const record = await gateway.getClient(id);
      expect(record).toMatchObject({
        client_id: id,
        status: 'valid',
        freshness: 'fresh',
        document: {
          client_id: id,
          redirect_uris: [callback(id), 'http://127.0.0.1/callback'],
          token_endpoint_auth_method: 'none',
        },
        warnings: expect.any(Array),
        errors: [],
      });
    });
  });

  describe('sessions', () => {
    it('registers (idempotently), checks and revokes a session', async () => {
      const id = serve(`/${transport}/sessions.json`);
      const { gateway } = client(transport);
      await gateway.checkAuthorization({ client_id: id, redirect_uri: callback(id), code_challenge_method: 'S256' });
      const session = {
        session_id: `${transport}-grant-1`,
        client_id: id,
        subject: 'alice',
        expires_at: new Date(Date.now() + 3_600_000),
      };
      expect(await gateway.registerSession(session)).toMatchObject({ active: true, client_id: id });
      expect(await gateway.registerSession(session)).toMatchObject({ active: true, client_id: id });
      expect(await gateway.checkSession(session.session_id)).toMatchObject({ active: true });
      await gateway.revokeSession(session.session_id);
      expect(await gateway.checkSession(session.session_id)).toMatchObject({ active: false, reason: 'api' });
      await expect(gateway.checkSession(`${transport}-no-such-grant`)).rejects.toMatchObject({ error: 'not_found' });
    });
  });

  describe('tenant events', () => {
    it('streams the events after a given id, and a new stream resumes after the last one seen', async () => {
      const [first, second] = [serve(`/${transport}/ev-1.json`), serve(`/${transport}/ev-2.json`)];
      const { gateway } = client(transport);
      for (const [n, id] of [first, second].entries()) {
        await gateway.checkAuthorization({ client_id: id, redirect_uri: callback(id), code_challenge_method: 'S256' });
        await gateway.registerSession({ session_id: `${transport}-ev-${n}`, client_id: id });
      }
      const { body } = await stack.request('GET', '/v1/tenants/acme/events?after=0&limit=1000');
      const start = (body.next_after as string) ?? '0';

      const controller = new AbortController();
      const stream = gateway.events({ after: start, signal: controller.signal })[Symbol.asyncIterator]();
      const next = stream.next();
      await vanish(`/${transport}/ev-1.json`, first);
      const event = (await next).value as TenantEvent;
      expect(event).toMatchObject({
        tenant: 'acme',
        type: 'session.revoked',
        client_id: first,
        data: { sessions: 1, reason: 'client.gone' },
      });
      controller.abort();
      expect(await stream.next()).toEqual({ done: true, value: undefined });

      // Later: start again after that event; only what came after it arrives.
      await vanish(`/${transport}/ev-2.json`, second);
      const resumed = gateway.events({ after: event.id })[Symbol.asyncIterator]();
      const again = (await resumed.next()).value as TenantEvent;
      expect(again).toMatchObject({ type: 'session.revoked', client_id: second });
      expect(BigInt(again.id)).toBeGreaterThan(BigInt(event.id));
      await resumed.return?.();
    }, 30_000);

    it('resumes after the last event when its gateway goes away and another comes back', async () => {
      const [third, fourth] = [serve(`/${transport}/ev-3.json`), serve(`/${transport}/ev-4.json`)];
      const { gateway: setup } = client(transport);
      for (const [n, id] of [third, fourth].entries()) {
        await setup.checkAuthorization({ client_id: id, redirect_uri: callback(id), code_challenge_method: 'S256' });
        await setup.registerSession({ session_id: `${transport}-ev-restart-${n}`, client_id: id });
      }
      const { body } = await stack.request('GET', '/v1/tenants/acme/events?after=0&limit=1000');
      const start = (body.next_after as string) ?? '0';
      await vanish(`/${transport}/ev-3.json`, third);
      await storedEvent(third);

      // A gateway of its own on the stack's database, at ports that outlive it.
      const [httpPort, grpcPort] = [await freePort(), await freePort()];
      const first = await startSoloGateway(stack, `client-${transport}-a`, 1000, { grpcPort });
      await first.app.listen(httpPort, '127.0.0.1');
      await first.app.startAllMicroservices();
      const { gateway } = client(transport, {}, { url: `http://127.0.0.1:${httpPort}`, grpcPort });
      const stream = gateway.events({ after: start })[Symbol.asyncIterator]();
      let second: Awaited<ReturnType<typeof startSoloGateway>> | undefined;
      try {
        expect((await stream.next()).value).toMatchObject({ client_id: third });
        await first.dispose(false);

        await vanish(`/${transport}/ev-4.json`, fourth);
        await storedEvent(fourth);
        second = await startSoloGateway(stack, `client-${transport}-b`, 1000, { grpcPort });
        await second.app.listen(httpPort, '127.0.0.1');
        await second.app.startAllMicroservices();
        // Not the third client's event again: the stream resumed after it.
        expect((await stream.next()).value).toMatchObject({ client_id: fourth });
      } finally {
        await stream.return?.();
        await second?.dispose(false);
      }
    }, 60_000);
  });
});
