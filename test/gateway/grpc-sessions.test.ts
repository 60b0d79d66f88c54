import * as grpc from '@grpc/grpc-js';
import { waitFor } from '@cimd/testing';
import type { Logger } from 'pino';
import { LiveTenantEvents } from '../../apps/gateway/src/events/event-watch';
import type { grpc as messages } from '@cimd/contracts';
import { LOGGER } from '@cimd/runtime';

type SessionStatus = messages.SessionStatus__Output;
type TenantEventMessage = messages.TenantEvent__Output;
import { ADMIN_TOKEN, documentFor, GatewayStack, startGatewayStack, startSoloGateway } from '../support/gateway-stack';
import {
  expectError,
  expectStatus,
  loadGatewayClient,
  metadataFor,
  ok,
  Reply,
  unaryCall,
} from '../support/grpc-client';

/**
 * The session and event methods of cimd.v1.Gateway end to end, with a real @grpc/grpc-js
 * client loading the repository's proto: RegisterSession, CheckSession and RevokeSession
 * against their HTTP twins, and WatchEvents fed by the real system (sessions of a client whose
 * document vanishes are revoked by the gateway's event consumer, which records the tenant's
 * `session.revoked` event).
 */
let stack: GatewayStack;
let acmeKey: string;
let otherKey: string;
let client: grpc.Client;
const GatewayClient = loadGatewayClient();

type StreamMethod = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
) => grpc.ClientReadableStream<TenantEventMessage>;

/** One unary call; the error or the response, never a rejection. */
function call<T>(method: string, request: object, token: string | null = acmeKey, on = client): Promise<Reply<T>> {
  return unaryCall<T>(on, method, request, metadataFor(token));
}

const register = (request: object, token?: string | null) => call<SessionStatus>('RegisterSession', request, token);
const checkSession = (request: object, token?: string | null) => call<SessionStatus>('CheckSession', request, token);
const revokeSession = (request: object, token?: string | null) => call<object>('RevokeSession', request, token);

/** A WatchEvents call: what it has received so far, and how it ended. */
interface Watch {
  events: TenantEventMessage[];
  call: grpc.ClientReadableStream<TenantEventMessage>;
  /** Settles when the stream ends: the error status, or undefined for OK. */
  ended: Promise<grpc.ServiceError | undefined>;
  /** Wait until `n` events have arrived. */
  received(n: number): Promise<TenantEventMessage[]>;
}

const watches: Watch[] = [];

function watch(request: object, token: string | null = acmeKey, on = client): Watch {
  const method = (on as unknown as Record<string, StreamMethod>).WatchEvents as StreamMethod;
  const stream = method.call(on, request, metadataFor(token), {});
  const events: TenantEventMessage[] = [];
  stream.on('data', (e: TenantEventMessage) => events.push(e));
  const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
    stream.on('error', (e: grpc.ServiceError) => resolve(e));
    stream.on('end', () => resolve(undefined));
  });
  const w: Watch = {
    events,
    call: stream,
    ended,
    received: (n) => waitFor(() => events.length >= n && events, `${n} events on a WatchEvents stream`),
  };
  watches.push(w);
  return w;
}

/** Streams open on the gateway. */
function liveWatchers(): number {
  return stack.app.get(LiveTenantEvents).size;
}

function serve(path: string): string {
  const id = stack.clientId(path);
  stack.origin.json(path, documentFor(id));
  return id;
}

/** Fetched and valid in the shared cache, as after an authorization request. */
async function fetched(path: string): Promise<string> {
  const id = serve(path);
  const checked = await stack.request('POST', '/v1/tenants/acme/authorize/check', {
    token: acmeKey,
    body: { client_id: id, redirect_uri: `https://${new URL(id).host}/callback`, code_challenge_method: 'S256' },
  });
  expect(checked.body).toMatchObject({ decision: 'allow' });
  return id;
}

/**
 * The document of `clientId` vanishes: an admin refresh finds it 404, the fetcher confirms
 * after CIMD_GONE_CONFIRM_DELAY_MS, and the gateway's consumer revokes the sessions and records
 * one `session.revoked` event per tenant. Resolves once `sessions` are seen revoked.
 */
async function vanish(clientId: string, sessions: { tenant: string; session_id: string }[]): Promise<void> {
  stack.origin.route(new URL(clientId).pathname, (_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('gone');
  });
  const refresh = await stack.request('POST', '/v1/clients/refresh', { body: { client_id: clientId } });
  expect(refresh.status).toBe(202);
  for (const s of sessions) {
    await waitFor(
      async () => (await checkSession(s, ADMIN_TOKEN)).response?.reason === 'client.gone',
      `session ${s.session_id} to be revoked`,
    );
  }
}

/** JSON text with sorted keys, as WatchEvents gives data_json. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The tenant's stored events as GET /v1/tenants/{t}/events gives them, in TenantEvent messages. */
async function storedEvents(tenant: string, after = '0'): Promise<TenantEventMessage[]> {
  const res = await stack.request('GET', `/v1/tenants/${tenant}/events?after=${after}&limit=1000`);
  expect(res.status).toBe(200);
  return (res.body.events as { data: unknown; client_id: string | null }[]).map(({ data, client_id, ...rest }) => ({
    ...rest,
    ...(client_id === null ? {} : { client_id }),
    data_json: canonicalJson(data),
  }));
}

beforeAll(async () => {
  stack = await startGatewayStack('grpc-sessions', { fetcherEnv: { CIMD_GONE_CONFIRM_DELAY_MS: '300' } });
  for (const id of ['acme', 'other']) {
    expect((await stack.request('POST', '/v1/tenants', { body: { id } })).status).toBe(201);
  }
  acmeKey = (await stack.request('POST', '/v1/tenants/acme/keys')).body.key;
  otherKey = (await stack.request('POST', '/v1/tenants/other/keys')).body.key;
  client = new GatewayClient(`127.0.0.1:${stack.grpcPort}`, grpc.credentials.createInsecure());
}, 60_000);

afterEach(() => {
  for (const w of watches.splice(0)) w.call.cancel();
});

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe('gRPC sessions', () => {
  it('RegisterSession, CheckSession and RevokeSession answer as their HTTP twins', async () => {
    const id = await fetched('/sessions-roundtrip.json');
    const request = {
      tenant: 'acme',
      session_id: 'rt-1',
      client_id: id,
      subject: 'alice',
      expires_at: '2099-01-01T00:00:00+01:00',
    };
    const registered = ok(await register(request));
    expect(registered).toEqual({
      active: true,
      client_id: id,
      created_at: expect.any(String) as unknown,
      expires_at: '2098-12-31T23:00:00.000Z',
    });
    // The same session registered over HTTP: the same answer (idempotent on session_id).
    const { tenant: _t, ...body } = request;
    const http = await stack.request('POST', '/v1/tenants/acme/sessions', { token: acmeKey, body });
    expect(http.status).toBe(201);
    expect(http.body).toEqual(registered);

    const checked = ok(await checkSession({ tenant: 'acme', session_id: 'rt-1' }));
    expect(checked).toEqual(registered);
    expect((await stack.request('GET', '/v1/tenants/acme/sessions/rt-1', { token: acmeKey })).body).toEqual(checked);

    expect(ok(await revokeSession({ tenant: 'acme', session_id: 'rt-1' }))).toEqual({});
    const revoked = ok(await checkSession({ tenant: 'acme', session_id: 'rt-1' }));
    expect(revoked).toMatchObject({ active: false, client_id: id, reason: 'api', revoked_at: expect.any(String) });
    expect((await stack.request('GET', '/v1/tenants/acme/sessions/rt-1', { token: acmeKey })).body).toEqual(revoked);
    // Revoking again changes nothing; so does registering again.
    expect(ok(await revokeSession({ tenant: 'acme', session_id: 'rt-1' }))).toEqual({});
    expect(ok(await checkSession({ tenant: 'acme', session_id: 'rt-1' }))).toEqual(revoked);
    expect(ok(await register(request))).toEqual(revoked);

    // A session registered over HTTP is checked and revoked over gRPC, and the other way round.
    const viaHttp = await stack.request('POST', '/v1/tenants/acme/sessions', {
      token: acmeKey,
      body: { session_id: 'rt-2', client_id: id },
    });
    expect(viaHttp.status).toBe(201);
    expect(ok(await checkSession({ tenant: 'acme', session_id: 'rt-2' }))).toEqual(viaHttp.body);
    expect(viaHttp.body).not.toHaveProperty('expires_at');
    ok(await revokeSession({ tenant: 'acme', session_id: 'rt-2' }));
    expect((await stack.request('GET', '/v1/tenants/acme/sessions/rt-2', { token: acmeKey })).body).toMatchObject({
      active: false,
      reason: 'api',
    });
  });

  it('RegisterSession is idempotent on session_id; another client for it is FAILED_PRECONDITION', async () => {
    const id = await fetched('/sessions-idempotent.json');
    const first = ok(await register({ tenant: 'acme', session_id: 'idem-1', client_id: id }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = ok(await register({ tenant: 'acme', session_id: 'idem-1', client_id: id, subject: 'bob' }));
    expect(again).toEqual(first);
    // The admin token works for any tenant.
    expect(ok(await register({ tenant: 'acme', session_id: 'idem-1', client_id: id }, ADMIN_TOKEN))).toEqual(first);

    const other = await fetched('/sessions-idempotent-other.json');
    const e = expectStatus(
      await register({ tenant: 'acme', session_id: 'idem-1', client_id: other }),
      grpc.status.FAILED_PRECONDITION,
      'conflict',
    );
    expect(e.details).toContain('already registered for another client');
    // Sessions are per tenant: the same id in another tenant is another session.
    expect(ok(await register({ tenant: 'other', session_id: 'idem-1', client_id: other }, otherKey)).client_id).toBe(
      other,
    );
  });

  it("PERMISSION_DENIED for another tenant's key, NOT_FOUND for an unknown tenant or session", async () => {
    const id = await fetched('/sessions-denied.json');
    ok(await register({ tenant: 'acme', session_id: 'denied-1', client_id: id }));
    const session = { tenant: 'acme', session_id: 'denied-1' };
    expectStatus(
      await register({ ...session, client_id: id }, otherKey),
      grpc.status.PERMISSION_DENIED,
      'access_denied',
    );
    expectStatus(await checkSession(session, otherKey), grpc.status.PERMISSION_DENIED, 'access_denied');
    expectStatus(await revokeSession(session, otherKey), grpc.status.PERMISSION_DENIED, 'access_denied');
    expect(ok(await checkSession(session)).active).toBe(true);
    // A key learns nothing about tenants that are not its own, not even whether they exist.
    expectStatus(
      await register({ tenant: 'nobody', session_id: 'x', client_id: id }),
      grpc.status.PERMISSION_DENIED,
      'access_denied',
    );

    const unknownTenant = expectStatus(
      await register({ tenant: 'nobody', session_id: 'x', client_id: id }, ADMIN_TOKEN),
      grpc.status.NOT_FOUND,
      'not_found',
    );
    expect(unknownTenant.details).toContain('nobody');
    expectStatus(await checkSession({ tenant: 'acme', session_id: 'never' }), grpc.status.NOT_FOUND, 'not_found');
    expectStatus(await revokeSession({ tenant: 'acme', session_id: 'never' }), grpc.status.NOT_FOUND, 'not_found');
    expectStatus(await checkSession(session, null), grpc.status.UNAUTHENTICATED, 'invalid_token');
    expectStatus(await revokeSession(session, 'not-a-token'), grpc.status.UNAUTHENTICATED, 'invalid_token');
  });

  it('INVALID_ARGUMENT for missing or malformed fields, as over HTTP', async () => {
    const id = stack.clientId('/sessions-invalid.json');
    const cases: [string, object, string][] = [
      ['RegisterSession', { session_id: 's', client_id: id }, 'tenant is required'],
      ['RegisterSession', { tenant: 'acme', client_id: id }, 'session_id is required'],
      ['RegisterSession', { tenant: 'acme', session_id: 's' }, 'client_id is required'],
      ['RegisterSession', { tenant: 'acme', session_id: 'has space', client_id: id }, 'session_id'],
      ['RegisterSession', { tenant: 'acme', session_id: 's', client_id: 'notaurl' }, 'is not an absolute URL'],
      ['RegisterSession', { tenant: 'acme', session_id: 's', client_id: id, expires_at: 'tomorrow' }, 'expires_at'],
      ['RegisterSession', { tenant: 'acme', session_id: 's', client_id: id, subject: '' }, 'subject'],
      ['RegisterSession', { tenant: 'NOT A TENANT', session_id: 's', client_id: id }, 'is not a tenant id'],
      ['CheckSession', { tenant: 'acme' }, 'session_id is required'],
      ['CheckSession', { tenant: 'acme', session_id: 'x'.repeat(257) }, 'session_id'],
      ['RevokeSession', { session_id: 's' }, 'tenant is required'],
      ['RevokeSession', { tenant: 'acme', session_id: 'tab\there' }, 'session_id'],
    ];
    for (const [method, request, mentions] of cases) {
      const e = expectStatus(await call(method, request, ADMIN_TOKEN), grpc.status.INVALID_ARGUMENT, 'invalid_request');
      expect({ method, request, details: e.details }).toEqual({
        method,
        request,
        details: expect.stringContaining(mentions) as unknown,
      });
    }
  });

  it('RegisterSession for a client whose document has vanished is FAILED_PRECONDITION', async () => {
    const id = await fetched('/sessions-vanished.json');
    ok(await register({ tenant: 'acme', session_id: 'vanished-1', client_id: id }));
    await vanish(id, [{ tenant: 'acme', session_id: 'vanished-1' }]);
    const e = expectStatus(
      await register({ tenant: 'acme', session_id: 'vanished-2', client_id: id }),
      grpc.status.FAILED_PRECONDITION,
      'conflict',
    );
    expect(e.details).toContain('is gone');
    expect(
      (
        await stack.request('POST', '/v1/tenants/acme/sessions', {
          token: acmeKey,
          body: { session_id: 'vanished-2', client_id: id },
        })
      ).status,
    ).toBe(409);
  });
});

describe('gRPC WatchEvents', () => {
  it('streams stored events, then live ones; resumes after an id; only the caller tenant', async () => {
    const before = await storedEvents('acme');
    const otherBefore = await storedEvents('other');
    const acmeLive = watch({ tenant: 'acme', after_id: before.at(-1)?.id ?? '0' });
    const otherLive = watch({ tenant: 'other', after_id: otherBefore.at(-1)?.id ?? '0' }, otherKey);
    await waitFor(() => liveWatchers() >= 2, 'both watchers to join the live feed');

    // One client with sessions in acme only, one with sessions in both tenants.
    const a = await fetched('/watch-a.json');
    ok(await register({ tenant: 'acme', session_id: 'watch-a1', client_id: a }));
    ok(await register({ tenant: 'acme', session_id: 'watch-a2', client_id: a }));
    await vanish(a, [
      { tenant: 'acme', session_id: 'watch-a1' },
      { tenant: 'acme', session_id: 'watch-a2' },
    ]);
    const [first] = await acmeLive.received(1);
    expect(first).toEqual({
      id: expect.stringMatching(/^\d+$/) as unknown,
      tenant: 'acme',
      type: 'session.revoked',
      time: expect.any(String) as unknown,
      client_id: a,
      data_json: expect.any(String) as unknown,
    });
    expect(JSON.parse(first?.data_json ?? '{}')).toMatchObject({ sessions: 2, reason: 'client.gone' });

    const b = await fetched('/watch-b.json');
    ok(await register({ tenant: 'acme', session_id: 'watch-b1', client_id: b }));
    ok(await register({ tenant: 'other', session_id: 'watch-b1', client_id: b }, otherKey));
    await vanish(b, [
      { tenant: 'acme', session_id: 'watch-b1' },
      { tenant: 'other', session_id: 'watch-b1' },
    ]);
    const live = await acmeLive.received(2);
    const [otherEvent] = await otherLive.received(1);
    expect(live.map((e) => e.client_id)).toEqual([a, b]);
    expect(BigInt(live[1]?.id ?? 0)).toBeGreaterThan(BigInt(live[0]?.id ?? 0));
    // The other tenant's watcher sees its own event of client b, and nothing of acme's.
    expect(otherEvent).toMatchObject({ tenant: 'other', type: 'session.revoked', client_id: b });
    expect(otherLive.events.every((e) => e.tenant === 'other')).toBe(true);
    expect(acmeLive.events.every((e) => e.tenant === 'acme')).toBe(true);
    expect(otherLive.events.filter((e) => live.some((l) => l.id === e.id))).toEqual([]);

    // The live events are the stored ones, as GET /v1/tenants/acme/events lists them.
    const stored = await storedEvents('acme');
    expect(stored.slice(before.length)).toEqual(live);

    // Catch-up: a watcher started now from "0" gets every stored event (more than one page's
    // worth is not needed to show the order), then the live ones.
    const fromStart = watch({ tenant: 'acme', after_id: '0' });
    expect(await fromStart.received(stored.length)).toEqual(stored);
    // Resumed after the first live event: exactly the rest.
    const resumed = watch({ tenant: 'acme', after_id: live[0]?.id });
    expect(await resumed.received(1)).toEqual([live[1]]);
    // No after_id: from the start, as GET …/events without `after`.
    const unset = watch({ tenant: 'acme' });
    expect(await unset.received(stored.length)).toEqual(stored);

    // A third vanishing reaches every acme stream, once, after what each had.
    const c = await fetched('/watch-c.json');
    ok(await register({ tenant: 'acme', session_id: 'watch-c1', client_id: c }));
    await vanish(c, [{ tenant: 'acme', session_id: 'watch-c1' }]);
    await acmeLive.received(3);
    await fromStart.received(stored.length + 1);
    await resumed.received(2);
    await unset.received(stored.length + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const all = await storedEvents('acme');
    expect(fromStart.events).toEqual(all);
    expect(unset.events).toEqual(all);
    expect(acmeLive.events).toEqual(all.slice(before.length));
    expect(resumed.events).toEqual(all.filter((e) => BigInt(e.id ?? 0) > BigInt(live[0]?.id ?? 0)));
    expect(otherLive.events).toEqual([otherEvent]);
  }, 60_000);

  it('refuses what the unary methods refuse, with the same statuses', async () => {
    expectError(await watch({ tenant: 'other' }).ended, grpc.status.PERMISSION_DENIED, 'access_denied');
    expectError(await watch({ tenant: 'acme' }, null).ended, grpc.status.UNAUTHENTICATED, 'invalid_token');
    expectError(await watch({ tenant: 'nobody' }, ADMIN_TOKEN).ended, grpc.status.NOT_FOUND, 'not_found');
    const bad = await watch({ tenant: 'acme', after_id: 'latest' }).ended;
    expect(expectError(bad, grpc.status.INVALID_ARGUMENT, 'invalid_request').details).toContain('after_id');
    expectError(await watch({}).ended, grpc.status.INVALID_ARGUMENT, 'invalid_request');
    expect(liveWatchers()).toBe(0);
  });

  it('a cancelled stream ends on the server without an error', async () => {
    const logger = stack.app.get<Logger>(LOGGER);
    const errors = jest.spyOn(logger, 'error');
    const warnings = jest.spyOn(logger, 'warn');
    try {
      const stored = await storedEvents('acme');
      const w = watch({ tenant: 'acme', after_id: '0' });
      await w.received(stored.length);
      await waitFor(() => liveWatchers() === 1, 'the watcher to join the live feed');
      w.call.cancel();
      expect((await w.ended)?.code).toBe(grpc.status.CANCELLED);
      await waitFor(() => liveWatchers() === 0, 'the server to drop the stream');
      const metrics = await fetch(`${stack.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/cimd_grpc_request_duration_seconds_count\{rpc="WatchEvents",code="CANCELLED"\} \d+/);
      expect(metrics).toMatch(/cimd_grpc_request_duration_seconds_count\{rpc="RegisterSession",code="OK"\} \d+/);
      expect(errors).not.toHaveBeenCalled();
      expect(warnings).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
  });
});

describe('gRPC WatchEvents at shutdown', () => {
  it('app.close() ends open streams with UNAVAILABLE at once instead of waiting for them', async () => {
    // A gateway of its own on this file's database, with its own key prefix and a long drain
    // deadline (CIMD_AUTHORIZE_WAIT_MS + 2 s): closing must not wait for it.
    const { app, grpcPort, dispose } = await startSoloGateway(stack, 'grpc-sessions', 20000);
    const solo = new GatewayClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    let closed = false;
    try {
      await app.init();
      await app.startAllMicroservices();
      const streams = [watch({ tenant: 'acme' }, acmeKey, solo), watch({ tenant: 'other' }, otherKey, solo)];
      await waitFor(() => app.get(LiveTenantEvents).size === 2, 'both streams to be open');
      const started = Date.now();
      await app.close();
      closed = true;
      expect(Date.now() - started).toBeLessThan(5_000);
      for (const s of streams) {
        const e = expectError(await s.ended, grpc.status.UNAVAILABLE, 'temporarily_unavailable');
        expect(e.details).toContain('shutting down');
      }
    } finally {
      solo.close();
      await dispose(closed);
    }
  }, 30_000);
});
