import * as grpc from '@grpc/grpc-js';
import { closeAgent, judgeHttp, RawRequest, RawResponse, send, Tally, warmClient } from './support/bad-input';
import { authMetadata, codeName, gatewayClient, GrpcResult, judgeGrpc, unary, watch } from './support/grpc-client';
import { serveDocument } from './support/origin';
import { record } from './support/results';
import { sleep } from './support/servers';
import { ADMIN_TOKEN, ProcessStack } from './support/stack';

/**
 * Isolation: two tenants, alpha and bravo, with keys, sessions, events,
 * policies and a webhook. Every tenant-scoped HTTP route and gRPC RPC is called on bravo with
 * alpha's key, with a revoked key and with malformed keys; every admin route with a tenant
 * key. All are refused (403 `access_denied` for another tenant's key or an admin route, 401
 * `invalid_token` for a revoked or malformed key; gRPC PERMISSION_DENIED / UNAUTHENTICATED),
 * an unknown tenant is refused exactly as an existing one (no oracle), and no answer, refused
 * or not, carries bravo's data: its session ids, key id and secret, webhook URL and secret,
 * policy entries, or its clients' ids. WatchEvents of alpha never delivers bravo's events.
 */
const FILE = __filename;
const tally = new Tally();
let stack: ProcessStack;
let client: grpc.Client;
let port: number;
const ADMIN = `Bearer ${ADMIN_TOKEN}`;
const gone = new Set<string>();

/** What belongs to bravo alone; none of it may appear in an answer to anyone else. */
const BRAVO = {
  sessions: ['bravo-session-7f3a91', 'bravo-session-c0ffee'],
  webhookUrl: 'https://bravo-hooks.invalid/hook-5e1d77',
  webhookSecret: 'bravo-webhook-secret-9d2c4b',
  policyHost: 'bravo-only-7b1e.example',
  trusted: 'https://bravo-trusted-4a8e.example/client.json',
  key: '',
  keyId: '',
  revokedKey: '',
  client: '',
};
let alphaKey = '';
let alphaClient = '';

function bravoMarkers(): string[] {
  return [
    ...BRAVO.sessions,
    BRAVO.webhookUrl,
    'bravo-hooks.invalid',
    BRAVO.webhookSecret,
    BRAVO.policyHost,
    BRAVO.trusted,
    BRAVO.key,
    BRAVO.key.split('_')[2] ?? '',
    BRAVO.keyId,
    BRAVO.client,
    'doomed-bravo',
  ].filter((m) => m.length > 0);
}

/** Bravo's data in an answer, except what the request itself named. */
function leaks(answer: string, request: string): string[] {
  return bravoMarkers().filter((m) => answer.includes(m) && !request.includes(m));
}

async function http(label: string, r: RawRequest, expected: { status: number; error: string }): Promise<RawResponse> {
  const res = await send(port, r);
  let problem = judgeHttp(res, { allow2xx: false });
  if (!problem && (res.status !== expected.status || res.body?.error !== expected.error))
    problem = `expected ${expected.status} ${expected.error}, got ${res.status} ${res.text.slice(0, 160)}`;
  const leaked = leaks(res.text, `${r.path} ${String(r.body ?? '')} ${r.authorization ?? ''}`);
  if (leaked.length > 0) problem = `${problem ? `${problem}; ` : ''}leaks ${leaked.join(', ')}`;
  tally.add(label, `${r.method} ${r.path}`, problem, res.status);
  return res;
}

function grpcCheck(label: string, r: GrpcResult, request: unknown, expected: grpc.status): void {
  let problem = judgeGrpc(r, { allowOk: false });
  if (!problem && r.code !== expected) problem = `expected ${codeName(expected)}, got ${codeName(r.code)} ${r.details}`;
  const leaked = leaks(`${r.details} ${JSON.stringify(r.response ?? {})}`, JSON.stringify(request));
  if (leaked.length > 0) problem = `${problem ? `${problem}; ` : ''}leaks ${leaked.join(', ')}`;
  tally.add(label, JSON.stringify(request).slice(0, 120), problem, r.code === grpc.status.INTERNAL ? 500 : r.code);
}

/** The tenant-scoped HTTP routes, on tenant `t`, each with a valid request. */
function tenantRoutes(t: string, sessionId: string): RawRequest[] {
  const json = (method: string, path: string, body: unknown): RawRequest => ({
    method,
    path,
    contentType: 'application/json',
    body: JSON.stringify(body),
  });
  const host = new URL(BRAVO.client).host;
  return [
    { method: 'GET', path: `/v1/tenants/${t}/policy` },
    json('PUT', `/v1/tenants/${t}/policy`, {}),
    json('POST', `/v1/tenants/${t}/authorize/check`, {
      client_id: BRAVO.client,
      redirect_uri: `https://${host}/callback`,
      code_challenge_method: 'S256',
    }),
    json('POST', `/v1/tenants/${t}/sessions`, { session_id: 'iso-new', client_id: BRAVO.client }),
    { method: 'GET', path: `/v1/tenants/${t}/sessions/${sessionId}` },
    { method: 'DELETE', path: `/v1/tenants/${t}/sessions/${sessionId}` },
    { method: 'GET', path: `/v1/tenants/${t}/events?after=0` },
    { method: 'GET', path: `/v1/tenants/${t}/webhooks/deliveries` },
  ];
}

/** The admin-only HTTP routes. */
function adminRoutes(t: string, keyId: string): RawRequest[] {
  const json = (method: string, path: string, body: unknown): RawRequest => ({
    method,
    path,
    contentType: 'application/json',
    body: JSON.stringify(body),
  });
  return [
    json('POST', '/v1/tenants', { id: 'iso-created' }),
    { method: 'POST', path: `/v1/tenants/${t}/keys` },
    { method: 'DELETE', path: `/v1/tenants/${t}/keys/${keyId}` },
    json('POST', '/v1/clients/refresh', { client_id: BRAVO.client }),
  ];
}

function grpcCalls(t: string, sessionId: string): [string, Record<string, string>][] {
  const host = new URL(BRAVO.client).host;
  return [
    [
      'CheckAuthorization',
      { tenant: t, client_id: BRAVO.client, redirect_uri: `https://${host}/callback`, code_challenge_method: 'S256' },
    ],
    ['RegisterSession', { tenant: t, session_id: 'iso-grpc-new', client_id: BRAVO.client }],
    ['CheckSession', { tenant: t, session_id: sessionId }],
    ['RevokeSession', { tenant: t, session_id: sessionId }],
    ['WatchEvents', { tenant: t }],
  ];
}

function grpcCall(rpc: string, request: Record<string, string>, token: string | null) {
  return rpc === 'WatchEvents'
    ? watch(client, request, authMetadata(token), 300)
    : unary(client, rpc, request, authMetadata(token));
}

/** Malformed and forged keys for bravo. */
function forgedKeys(): string[] {
  const [, id = '', secret = ''] = BRAVO.key.split('_');
  const [, alphaId = '', alphaSecret = ''] = alphaKey.split('_');
  const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`;
  return [
    `cimd_${id}_${flip(secret)}`,
    `cimd_${id}_${alphaSecret}`,
    `cimd_${alphaId}_${secret}`,
    `cimd_${id}_${secret}x`,
    `cimd_${id.toUpperCase()}_${secret}`,
    `cimd_${id}`,
    `${id}_${secret}`,
    `cimd-${id}-${secret}`,
    BRAVO.key.slice(0, -1),
    `${BRAVO.key}${BRAVO.key}`,
    secret,
  ];
}

let mark = 0;
beforeEach(() => {
  mark = tally.problems.size;
});

beforeAll(async () => {
  stack = await ProcessStack.start('isolation', { fetcherEnv: { CIMD_GONE_CONFIRM_DELAY_MS: '300' } });
  port = stack.gatewayPort;
  stack.origin.prefix('/', (req, res, body) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (gone.has(path)) res.writeHead(404).end();
    else serveDocument()(req, res, body);
  });
  await stack.expect(201, 'POST', '/v1/tenants', { id: 'alpha' });
  await stack.expect(201, 'POST', '/v1/tenants', {
    id: 'bravo',
    policy: {
      allow_hosts: ['client.test', BRAVO.policyHost],
      trusted_client_ids: [BRAVO.trusted],
      webhook: { url: BRAVO.webhookUrl, secret: BRAVO.webhookSecret },
    },
  });
  alphaKey = (await stack.expect(201, 'POST', '/v1/tenants/alpha/keys')).body.key as string;
  const bravo = (await stack.expect(201, 'POST', '/v1/tenants/bravo/keys')).body as { id: string; key: string };
  BRAVO.key = bravo.key;
  BRAVO.keyId = bravo.id;
  const revoked = (await stack.expect(201, 'POST', '/v1/tenants/bravo/keys')).body as { id: string; key: string };
  BRAVO.revokedKey = revoked.key;
  BRAVO.client = stack.clientId('/doomed-bravo.json');
  alphaClient = stack.clientId('/doomed-alpha.json');
  await warmClient(stack, 'bravo', BRAVO.client, BRAVO.key);
  await warmClient(stack, 'alpha', alphaClient, alphaKey);
  for (const id of BRAVO.sessions)
    await stack.expect(201, 'POST', '/v1/tenants/bravo/sessions', { session_id: id, client_id: BRAVO.client });
  await stack.expect(201, 'POST', '/v1/tenants/alpha/sessions', {
    session_id: 'alpha-session-1',
    client_id: alphaClient,
  });
  // The revoked key works once (so that it is cached in the gateway), then is revoked: refused at once.
  expect((await stack.api('GET', '/v1/tenants/bravo/policy', { token: BRAVO.revokedKey })).status).toBe(200);
  await stack.expect(204, 'DELETE', `/v1/tenants/bravo/keys/${revoked.id}`);
  client = gatewayClient(stack.grpcPort);
}, 120_000);

afterAll(async () => {
  closeAgent();
  client?.close();
  record(
    'bad_inputs',
    {
      tried: tally.tried,
      passed: tally.passed,
      fivexx: tally.fivexx,
      details: [
        `isolation: ${tally.tried} cross-tenant, revoked-key, forged-key and admin-route attempts`,
        ...tally.list().slice(0, 50),
      ],
    },
    FILE,
  );
  process.stdout.write(
    `  isolation: ${tally.tried} attempts, ${tally.passed} refused without a leak, ${tally.problems.size} kinds of problem\n`,
  );
  await stack?.stop();
});

describe('tenant isolation', () => {
  it("another tenant's key, a revoked key and forged keys are refused on every tenant route", async () => {
    for (const r of tenantRoutes('bravo', BRAVO.sessions[0] as string)) {
      await http(
        `alpha key on bravo: ${r.method}`,
        { ...r, authorization: `Bearer ${alphaKey}` },
        {
          status: 403,
          error: 'access_denied',
        },
      );
      await http(
        `revoked key: ${r.method}`,
        { ...r, authorization: `Bearer ${BRAVO.revokedKey}` },
        {
          status: 401,
          error: 'invalid_token',
        },
      );
      for (const forged of forgedKeys()) {
        await http(
          `forged key: ${r.method}`,
          { ...r, authorization: `Bearer ${forged}` },
          {
            status: 401,
            error: 'invalid_token',
          },
        );
      }
    }
    // An unknown tenant is refused exactly as bravo is: the key learns nothing about which exist.
    for (const [a, b] of tenantRoutes('bravo', 'x').map((r, i) => [r, tenantRoutes('ghost', 'x')[i]] as const)) {
      const onBravo = await send(port, { ...a, authorization: `Bearer ${alphaKey}` });
      const onGhost = await send(port, { ...(b as RawRequest), authorization: `Bearer ${alphaKey}` });
      tally.add(
        `existence oracle: ${a.method}`,
        a.path,
        onBravo.status === onGhost.status && onBravo.text === onGhost.text
          ? undefined
          : `bravo: ${onBravo.status} ${onBravo.text}; ghost: ${onGhost.status} ${onGhost.text}`,
        onBravo.status,
      );
    }
    expect(tally.list(mark)).toEqual([]);
    // Nothing of bravo's changed: its sessions are active, its policy is its own.
    for (const id of BRAVO.sessions) {
      const s = await stack.api('GET', `/v1/tenants/bravo/sessions/${id}`, { token: BRAVO.key });
      expect({ id, status: s.status, active: s.body?.active }).toEqual({ id, status: 200, active: true });
    }
    const policy = await stack.api('GET', '/v1/tenants/bravo/policy', { token: BRAVO.key });
    expect(policy.body.policy.webhook.url).toBe(BRAVO.webhookUrl);
    expect(policy.body.version).toBe(1);
  });

  it('a tenant key is refused on every admin route, even for its own tenant', async () => {
    for (const token of [alphaKey, BRAVO.key]) {
      for (const t of ['alpha', 'bravo']) {
        for (const r of adminRoutes(t, BRAVO.keyId)) {
          await http(
            `tenant key on admin route: ${r.method} ${r.path.split('/').slice(0, 3).join('/')}`,
            {
              ...r,
              authorization: `Bearer ${token}`,
            },
            { status: 403, error: 'access_denied' },
          );
        }
      }
    }
    // Bravo's key was not revoked, no tenant or key was created.
    expect((await stack.api('GET', '/v1/tenants/bravo/policy', { token: BRAVO.key })).status).toBe(200);
    expect(await stack.query("SELECT id FROM tenants WHERE id = 'iso-created'")).toEqual([]);
    expect(await stack.query('SELECT id FROM api_keys')).toHaveLength(3);
    expect(tally.list(mark)).toEqual([]);
  });

  it("a tenant's own routes never show another tenant's sessions, events or settings", async () => {
    const key = `Bearer ${alphaKey}`;
    // Bravo's session ids, asked for (or revoked) under alpha: not found, and untouched.
    for (const id of BRAVO.sessions) {
      await http(
        'bravo session under alpha: GET',
        { method: 'GET', path: `/v1/tenants/alpha/sessions/${id}`, authorization: key },
        {
          status: 404,
          error: 'not_found',
        },
      );
      await http(
        'bravo session under alpha: DELETE',
        { method: 'DELETE', path: `/v1/tenants/alpha/sessions/${id}`, authorization: key },
        {
          status: 404,
          error: 'not_found',
        },
      );
    }
    // Registering bravo's session id under alpha makes alpha's own session, not a view of bravo's.
    const before = await stack.api('GET', `/v1/tenants/bravo/sessions/${BRAVO.sessions[1]}`, { token: BRAVO.key });
    await sleep(20);
    const mine = await stack.api('POST', '/v1/tenants/alpha/sessions', {
      token: alphaKey,
      body: { session_id: BRAVO.sessions[1], client_id: alphaClient },
    });
    expect(mine.status).toBe(201);
    expect(mine.body.client_id).toBe(alphaClient);
    expect(mine.body.created_at).not.toBe(before.body.created_at);
    const after = await stack.api('GET', `/v1/tenants/bravo/sessions/${BRAVO.sessions[1]}`, { token: BRAVO.key });
    expect(after.body).toEqual(before.body);
    await stack.expect(204, 'DELETE', `/v1/tenants/alpha/sessions/${BRAVO.sessions[1]}`);
    expect(
      (await stack.api('GET', `/v1/tenants/bravo/sessions/${BRAVO.sessions[1]}`, { token: BRAVO.key })).body.active,
    ).toBe(true);
    // Alpha's own answers carry nothing of bravo's.
    for (const path of [
      '/v1/tenants/alpha/policy',
      '/v1/tenants/alpha/events?after=0&limit=1000',
      '/v1/tenants/alpha/webhooks/deliveries',
    ]) {
      const r = await send(port, { method: 'GET', path, authorization: key });
      tally.add(
        `alpha's own: ${path}`,
        path,
        r.status !== 200
          ? `status ${r.status}`
          : leaks(r.text, path).length > 0
            ? `leaks ${leaks(r.text, path).join(', ')}`
            : undefined,
        r.status,
      );
    }
    // The shared client cache says nothing about tenants.
    const shared = await send(port, {
      method: 'GET',
      path: `/v1/clients?client_id=${encodeURIComponent(BRAVO.client)}`,
      authorization: key,
    });
    const sharedLeaks = leaks(shared.text, BRAVO.client).filter((m) => m !== 'doomed-bravo');
    tally.add(
      'shared client record',
      BRAVO.client,
      shared.status === 200 && sharedLeaks.length === 0
        ? undefined
        : `${shared.status} leaks ${sharedLeaks.join(', ')}`,
      shared.status,
    );
    expect(tally.list(mark)).toEqual([]);
  });

  it("every gRPC RPC refuses another tenant's key, a revoked key and forged keys", async () => {
    for (const [rpc, request] of grpcCalls('bravo', BRAVO.sessions[0] as string)) {
      grpcCheck(
        `gRPC alpha key on bravo: ${rpc}`,
        await grpcCall(rpc, request, `Bearer ${alphaKey}`),
        request,
        grpc.status.PERMISSION_DENIED,
      );
      grpcCheck(
        `gRPC revoked key: ${rpc}`,
        await grpcCall(rpc, request, `Bearer ${BRAVO.revokedKey}`),
        request,
        grpc.status.UNAUTHENTICATED,
      );
      for (const forged of forgedKeys()) {
        grpcCheck(
          `gRPC forged key: ${rpc}`,
          await grpcCall(rpc, request, `Bearer ${forged}`),
          request,
          grpc.status.UNAUTHENTICATED,
        );
      }
      const ghost = { ...request, tenant: 'ghost' };
      const onBravo = await grpcCall(rpc, request, `Bearer ${alphaKey}`);
      const onGhost = await grpcCall(rpc, ghost, `Bearer ${alphaKey}`);
      tally.add(
        `gRPC existence oracle: ${rpc}`,
        rpc,
        onBravo.code === onGhost.code && onBravo.details === onGhost.details
          ? undefined
          : `bravo: ${onBravo.details}; ghost: ${onGhost.details}`,
        onBravo.code,
      );
    }
    // Bravo's session under alpha's tenant: NOT_FOUND, and bravo's stays active.
    const cross = { tenant: 'alpha', session_id: BRAVO.sessions[0] as string };
    grpcCheck(
      'gRPC bravo session under alpha: CheckSession',
      await unary(client, 'CheckSession', cross, authMetadata(`Bearer ${alphaKey}`)),
      cross,
      grpc.status.NOT_FOUND,
    );
    grpcCheck(
      'gRPC bravo session under alpha: RevokeSession',
      await unary(client, 'RevokeSession', cross, authMetadata(`Bearer ${alphaKey}`)),
      cross,
      grpc.status.NOT_FOUND,
    );
    const still = await unary(
      client,
      'CheckSession',
      { tenant: 'bravo', session_id: BRAVO.sessions[0] },
      authMetadata(`Bearer ${BRAVO.key}`),
    );
    expect(still.response?.active).toBe(true);
    expect(tally.list(mark)).toEqual([]);
  });

  it("WatchEvents and the events list of alpha never deliver bravo's events", async () => {
    const key = `Bearer ${alphaKey}`;
    const open = (tenant: string, token: string) => {
      const events: { id: string; tenant: string; type: string; client_id?: string; data_json: string }[] = [];
      const call = (
        client as unknown as { WatchEvents: (r: unknown, m: grpc.Metadata) => grpc.ClientReadableStream<unknown> }
      ).WatchEvents({ tenant, after_id: '0' }, authMetadata(token));
      call.on('data', (e: (typeof events)[number]) => events.push(e));
      call.on('error', () => undefined);
      return { call, events };
    };
    const alphaWatch = open('alpha', key);
    const adminAlphaWatch = open('alpha', ADMIN);
    const bravoWatch = open('bravo', `Bearer ${BRAVO.key}`);
    await sleep(500);
    // Both clients' documents vanish: bravo's sessions and alpha's are revoked, one event per tenant.
    gone.add(new URL(BRAVO.client).pathname);
    gone.add(new URL(alphaClient).pathname);
    await stack.expect(202, 'POST', '/v1/clients/refresh', { client_id: BRAVO.client });
    await stack.expect(202, 'POST', '/v1/clients/refresh', { client_id: alphaClient });
    const deadline = Date.now() + 30_000;
    while (
      Date.now() < deadline &&
      (bravoWatch.events.length === 0 || alphaWatch.events.length === 0 || adminAlphaWatch.events.length === 0)
    )
      await sleep(100);
    await sleep(1000); // anything else that might arrive
    for (const w of [alphaWatch, adminAlphaWatch, bravoWatch]) w.call.cancel();
    expect(bravoWatch.events.map((e) => [e.tenant, e.type, e.client_id])).toEqual([
      ['bravo', 'session.revoked', BRAVO.client],
    ]);
    for (const [label, w] of [
      ['alpha key', alphaWatch],
      ['admin', adminAlphaWatch],
    ] as const) {
      expect(w.events.map((e) => [e.tenant, e.type, e.client_id])).toEqual([['alpha', 'session.revoked', alphaClient]]);
      const text = JSON.stringify(w.events);
      tally.add(
        `WatchEvents alpha (${label})`,
        'events',
        leaks(text, '').length > 0 ? `leaks ${leaks(text, '').join(', ')}` : undefined,
        200,
      );
    }
    const list = await send(port, {
      method: 'GET',
      path: '/v1/tenants/alpha/events?after=0&limit=1000',
      authorization: key,
    });
    const tenants = ((list.body as { events?: { tenant: string }[] } | undefined)?.events ?? []).map((e) => e.tenant);
    tally.add(
      'events list alpha',
      'events',
      list.status === 200 && tenants.every((t) => t === 'alpha') && leaks(list.text, '').length === 0
        ? undefined
        : `${list.status} ${list.text.slice(0, 200)}`,
      list.status,
    );
    // Alpha's key on bravo's stream: refused before anything is sent.
    const refused = await watch(client, { tenant: 'bravo', after_id: '0' }, authMetadata(key), 1000);
    grpcCheck('gRPC WatchEvents bravo with alpha key', refused, { tenant: 'bravo' }, grpc.status.PERMISSION_DENIED);
    expect(refused.events).toEqual([]);
    expect(tally.list(mark)).toEqual([]);
  }, 60_000);
});
