import fc from 'fast-check';
import {
  arbClientId,
  arbJsonValue,
  badBodies,
  clientIdTraps,
  closeAgent,
  contentTypes,
  FUZZ_LIMITS,
  FUZZ_SEED,
  judgeHttp,
  percentEncode,
  RawRequest,
  RawResponse,
  send,
  sendRaw,
  show,
  Tally,
  warmClient,
  tokenTraps,
  unreadable,
  weirdStrings,
} from './support/bad-input';
import {
  arbClaimChanges,
  arbJwtShaped,
  arbMutation,
  AssertionSigner,
  assertionSigner,
  assertionTraps,
  claimsAreValid,
  JWT_BEARER,
  ODD_BUT_VALID,
} from './support/assertions';
import { documentFor, serveDocument } from './support/origin';
import { record } from './support/results';
import { ADMIN_TOKEN, ProcessStack } from './support/stack';

/**
 * Bad input, HTTP: every route of apps/gateway's controllers fuzzed with
 * fast-check and the SPEC-NOTES client_id traps, wrong JSON types, deep nesting, oversized and
 * non-UTF-8 bodies, invalid JSON, wrong content types, bad tokens, weird path parameters and
 * malformed HTTP. Zero 5xx, the gateway never goes down, and every refusal is a 4xx with
 * `{error, error_description}` and a readable description (support/bad-input.ts, judgeHttp).
 */
const FILE = __filename;
const tally = new Tally();
let stack: ProcessStack;
let port: number;
let acmeKey: string;
let cached: string;
/** A private_key_jwt client of acme, with its key at jwks_uri, and what acme's AS is called. */
let pkjwt: string;
let signer: AssertionSigner;
const AS = { issuer: 'https://as.fuzz.test', token_endpoint: 'https://as.fuzz.test/token' };

const bearer = (token: string) => `Bearer ${token}`;
const ADMIN = bearer(ADMIN_TOKEN);

/** Every HTTP route (apps/gateway/src/**\/*.controller.ts), with a valid request for each. */
interface Route {
  name: string;
  method: string;
  /** The path for these parameters. */
  path: (p: Partial<Params>) => string;
  /** A valid body, when the route takes one. */
  body?: () => Record<string, unknown>;
  /** Needs no token. */
  open?: boolean;
}

interface Params {
  tenant: string;
  session: string;
  key: string;
  logo: string;
  file: string;
  query: string;
}

const PATH_PARAMS = ['tenant', 'session', 'key', 'logo', 'file'] as const;

const ROUTES: Route[] = [
  { name: 'POST /v1/tenants', method: 'POST', path: () => '/v1/tenants', body: () => ({ id: 'fuzz-new' }) },
  { name: 'GET policy', method: 'GET', path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/policy` },
  { name: 'PUT policy', method: 'PUT', path: (p) => `/v1/tenants/${p.tenant ?? 'fuzz'}/policy`, body: () => ({}) },
  { name: 'POST keys', method: 'POST', path: (p) => `/v1/tenants/${p.tenant ?? 'fuzz'}/keys` },
  {
    name: 'DELETE key',
    method: 'DELETE',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/keys/${p.key ?? '00000000-0000-4000-8000-000000000000'}`,
  },
  {
    name: 'POST authorize/check',
    method: 'POST',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/authorize/check`,
    body: () => ({
      client_id: cached,
      redirect_uri: `https://${new URL(cached).host}/callback`,
      code_challenge_method: 'S256',
    }),
  },
  {
    name: 'GET clients',
    method: 'GET',
    path: (p) => `/v1/clients${p.query ?? `?client_id=${percentEncode(cached)}`}`,
  },
  {
    name: 'POST clients/refresh',
    method: 'POST',
    path: () => '/v1/clients/refresh',
    body: () => ({ client_id: cached }),
  },
  {
    name: 'POST sessions',
    method: 'POST',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/sessions`,
    body: () => ({ session_id: 'fuzz-session', client_id: cached }),
  },
  {
    name: 'GET session',
    method: 'GET',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/sessions/${p.session ?? 's1'}`,
  },
  {
    name: 'DELETE session',
    method: 'DELETE',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/sessions/${p.session ?? 'fuzz-unknown'}`,
  },
  {
    name: 'GET events',
    method: 'GET',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/events${p.query ?? '?after=0&limit=10'}`,
  },
  { name: 'GET deliveries', method: 'GET', path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/webhooks/deliveries` },
  { name: 'GET logo', method: 'GET', path: (p) => `/v1/logos/${p.logo ?? '0'.repeat(64)}`, open: true },
  {
    name: 'POST clients/authenticate',
    method: 'POST',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/clients/authenticate`,
    body: () => ({ client_id: cached }),
  },
  {
    name: 'GET authorization-server-metadata',
    method: 'GET',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/authorization-server-metadata`,
  },
  {
    name: 'GET clients/attempts',
    method: 'GET',
    path: (p) => `/v1/clients/attempts${p.query ?? `?client_id=${percentEncode(cached)}`}`,
  },
  { name: 'GET clients/list', method: 'GET', path: (p) => `/v1/clients/list${p.query ?? '?limit=5'}` },
  {
    name: 'GET tenant clients',
    method: 'GET',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/clients${p.query ?? '?q=cached&status=valid'}`,
  },
  {
    name: 'GET tenant clients/inspect',
    method: 'GET',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/clients/inspect${p.query ?? `?client_id=${percentEncode(cached)}`}`,
  },
  {
    name: 'GET tenant clients/events',
    method: 'GET',
    path: (p) =>
      `/v1/tenants/${p.tenant ?? 'acme'}/clients/events${p.query ?? `?client_id=${percentEncode(cached)}&limit=5`}`,
  },
  {
    name: 'POST policy/validate',
    method: 'POST',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/policy/validate`,
    body: () => ({ deny_hosts: ['evil.test'] }),
  },
  {
    name: 'POST policy/dry-run',
    method: 'POST',
    path: (p) => `/v1/tenants/${p.tenant ?? 'acme'}/policy/dry-run`,
    body: () => ({ deny_hosts: ['evil.test'] }),
  },
  { name: 'GET whoami', method: 'GET', path: () => '/v1/whoami' },
  { name: 'GET console', method: 'GET', path: () => '/console', open: true },
  { name: 'GET console file', method: 'GET', path: (p) => `/console/${p.file ?? 'console.css'}`, open: true },
  { name: 'GET console script', method: 'GET', path: (p) => `/console/js/${p.file ?? 'main.js'}`, open: true },
  { name: 'GET console page', method: 'GET', path: (p) => `/console/js/pages/${p.file ?? 'clients.js'}`, open: true },
];
/**
 * Routes that answer with a stream: fuzzed only with input that must be refused (a valid
 * request would keep its connection open), in their own test.
 */
const STREAM_ROUTES = ['GET /v1/tenants/{tenant}/events/stream'];
const BODY_ROUTES = ROUTES.filter((r) => r.body);
const AUTH_ROUTES = ROUTES.filter((r) => !r.open);
const route = (name: string) => ROUTES.find((r) => r.name === name) as Route;

async function hit(name: string, input: string, r: RawRequest, options: { allow2xx?: boolean } = {}) {
  const res = { ...(await send(port, r)), method: r.method };
  let problem = judgeHttp(res, options) ?? judgeDecision(res) ?? judgeAuthentication(res);
  if (problem && res.status >= 500) problem += ` (gateway: ${lastGatewayError()})`;
  tally.add(name, input, problem, res.status);
  return res;
}

/** The message of the gateway's latest logged error, for a 5xx's report. */
function lastGatewayError(): string {
  const line = stack.gateway
    .tail(200)
    .split('\n')
    .filter((l) => /"level":(5|6)\d/.test(l))
    .pop();
  if (!line) return 'nothing logged';
  try {
    const entry = JSON.parse(line) as { err?: { message?: string }; msg?: string };
    return entry.err?.message ?? entry.msg ?? line.slice(0, 200);
  } catch {
    return line.slice(0, 200);
  }
}

/** An authorize check answered 200 with a denial or "pending" names the error and says why. */
function judgeDecision(r: RawResponse): string | undefined {
  const b = r.body as { decision?: unknown; error?: unknown; error_description?: unknown } | undefined;
  // (An inspection answer holds its decision as an object: judged by its own schema, not here.)
  if (r.status !== 200 || !b || typeof b !== 'object' || b.decision === undefined || typeof b.decision === 'object')
    return undefined;
  if (b.decision === 'allow') return undefined;
  if (b.decision !== 'deny' && b.decision !== 'pending') return `decision ${JSON.stringify(b.decision)}`;
  if (typeof b.error !== 'string' || !/^[a-z_]+$/.test(b.error)) return `${b.decision} without an error`;
  const why = unreadable(b.error_description);
  return why ? `${b.decision}: ${why}` : undefined;
}

/** A client authentication answered 200 says whether, and when not, why in a rule code. */
function judgeAuthentication(r: RawResponse): string | undefined {
  const b = r.body as
    | { authenticated?: unknown; method?: unknown; error?: unknown; error_description?: unknown; reason?: unknown }
    | undefined;
  if (r.status !== 200 || !b || typeof b !== 'object' || b.authenticated === undefined) return undefined;
  if (b.authenticated === true)
    return b.method === 'none' || b.method === 'private_key_jwt' ? undefined : `authenticated by ${show(b.method)}`;
  if (b.authenticated !== false) return `authenticated: ${show(b.authenticated)}`;
  if (typeof b.error !== 'string' || !/^[a-z_]+$/.test(b.error)) return 'refused without an error';
  if (typeof b.reason !== 'string' || !/^[a-z_]+(\.[a-z_]+)+$/.test(b.reason))
    return `refused without a rule code: ${show(b.reason)}`;
  const why = unreadable(b.error_description);
  return why ? `refused: ${why}` : undefined;
}

/** The gateway is still up and answering after a batch of bad input. */
async function expectAlive(): Promise<void> {
  expect(stack.gateway.running).toBe(true);
  const health = await send(port, { method: 'GET', path: '/healthz' });
  expect(health.status).toBe(200);
  const ok = await send(port, {
    method: 'POST',
    path: '/v1/tenants/acme/authorize/check',
    authorization: bearer(acmeKey),
    contentType: 'application/json',
    body: JSON.stringify({
      client_id: cached,
      redirect_uri: `https://${new URL(cached).host}/callback`,
      code_challenge_method: 'S256',
    }),
  });
  expect({ status: ok.status, decision: ok.body?.decision }).toEqual({ status: 200, decision: 'allow' });
}

function json(name: string, body: unknown, authorization: string | null = ADMIN, path?: string): RawRequest {
  const r = route(name);
  return {
    method: r.method,
    path: path ?? r.path({}),
    authorization,
    contentType: 'application/json',
    body: JSON.stringify(body),
  };
}

beforeAll(async () => {
  stack = await ProcessStack.start('fuzz-http', { gatewayEnv: { CIMD_AUTHORIZE_WAIT_MS: '300' } });
  port = stack.gatewayPort;
  stack.origin.prefix('/', serveDocument());
  for (const id of ['acme', 'beta', 'fuzz']) await stack.expect(201, 'POST', '/v1/tenants', { id });
  acmeKey = (await stack.expect(201, 'POST', '/v1/tenants/acme/keys')).body.key as string;
  cached = stack.clientId('/cached.json');
  await warmClient(stack, 'acme', cached);
  await stack.expect(201, 'POST', '/v1/tenants/acme/sessions', { session_id: 's1', client_id: cached });
  pkjwt = stack.clientId('/pkjwt.json');
  signer = assertionSigner(pkjwt, AS.issuer);
  stack.origin.json('/pkjwt.jwks', { keys: [signer.jwk] });
  stack.origin.json(
    '/pkjwt.json',
    documentFor(pkjwt, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: stack.clientId('/pkjwt.jwks') }),
  );
  await stack.expect(200, 'PUT', '/v1/tenants/acme/policy', AS);
  await warmClient(stack, 'acme', pkjwt);
  for (const deadline = Date.now() + 20_000; ;) {
    const r = await stack.api('POST', '/v1/tenants/acme/clients/authenticate', {
      body: { client_id: pkjwt, client_assertion_type: JWT_BEARER, client_assertion: await signer.valid() },
    });
    if (r.body?.authenticated === true) break;
    if (Date.now() > deadline) throw new Error(`${pkjwt} does not authenticate: ${JSON.stringify(r.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  process.stdout.write(`  fuzz-http: FUZZ_SEED=${FUZZ_SEED}\n`);
}, 120_000);

afterAll(async () => {
  closeAgent();
  record(
    'bad_inputs',
    { tried: tally.tried, passed: tally.passed, fivexx: tally.fivexx, details: tally.list().slice(0, 50) },
    FILE,
  );
  process.stdout.write(
    `  fuzz-http: ${tally.tried} inputs, ${tally.passed} answered properly, ${tally.fivexx} 5xx, ${tally.problems.size} kinds of problem\n`,
  );
  await stack?.stop();
});

let mark = 0;
beforeEach(() => {
  mark = tally.problems.size;
});

afterEach(() => {
  // The gateway's own errors (level 50+), when a test found problems.
  if (tally.problems.size === mark || !stack) return;
  const errors = stack.gateway
    .tail(100_000)
    .split('\n')
    .filter((l) => /"level":(5|6)\d/.test(l));
  process.stdout.write(`${errors.slice(-10).join('\n').slice(0, 8000)}\n`);
});

describe('HTTP API under bad input', () => {
  it('the fuzzed routes are every route the OpenAPI document lists', async () => {
    const doc = await send(port, { method: 'GET', path: '/docs/openapi.json' });
    const listed = Object.entries((doc.body as { paths: Record<string, Record<string, unknown>> }).paths).flatMap(
      ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const fuzzed = (operation: string) => {
      const [method, template] = operation.split(' ') as [string, string];
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      return ROUTES.some((r) => r.method === method && pattern.test(r.path({}).split('?')[0] ?? ''));
    };
    expect(listed.length).toBeGreaterThan(20);
    expect(listed.filter((op) => !fuzzed(op) && !STREAM_ROUTES.includes(op))).toEqual([]);
  });

  it("client assertions written by an attacker: traps, random and mutated JWTs, odd claims under the client's real key (SPEC-NOTES 27)", async () => {
    const audiences = [AS.issuer, AS.token_endpoint];
    const accepted = new Set<string>();
    const authenticated: string[] = [];
    const authenticate = async (input: string, assertion: unknown, extra: Record<string, unknown> = {}) => {
      const body = { client_id: pkjwt, client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra };
      const res = await hit('POST clients/authenticate (assertion)', input, {
        ...json('POST clients/authenticate', body, bearer(acmeKey)),
      });
      if (res.status !== 200 || res.body?.authenticated !== true) return;
      authenticated.push(input);
      // Accepted: it must be a token the rules accept, and its jti must not have been used before.
      const why =
        typeof assertion === 'string' && body.client_id === pkjwt && body.client_assertion_type === JWT_BEARER
          ? claimsAreValid(assertion, pkjwt, audiences)
          : 'it is not an assertion for this client';
      if (why) tally.add('POST clients/authenticate (assertion)', input, `authenticated although ${why}`);
      const jti = String(JSON.parse(Buffer.from(String(assertion).split('.')[1] ?? '', 'base64url').toString()).jti);
      if (accepted.has(jti)) tally.add('POST clients/authenticate (assertion)', input, `jti ${show(jti)} used twice`);
      accepted.add(jti);
    };
    for (const [name, token] of await assertionTraps(signer)) await authenticate(name, token);
    // Right assertion, wrong envelope: another client, another assertion type, an assertion for a public client.
    const good = await signer.valid();
    for (const type of [
      undefined,
      '',
      'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      JWT_BEARER.toUpperCase(),
    ])
      await authenticate(`client_assertion_type ${show(type)}`, good, { client_assertion_type: type });
    await authenticate('assertion for the public client', good, { client_id: cached });
    await authenticate('assertion for another client', good, { client_id: stack.clientId('/other.json') });
    expect(authenticated).toEqual(ODD_BUT_VALID);
    // The same good assertion twice: the second is a replay.
    await authenticate('valid', good);
    await authenticate('valid, replayed', good);
    expect(authenticated).toEqual([...ODD_BUT_VALID, 'valid']);

    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
          { weight: 3, arbitrary: arbJwtShaped },
          { weight: 3, arbitrary: arbMutation(good) },
          { weight: 3, arbitrary: arbClaimChanges },
        ),
        async (input: string | Record<string, unknown>) => {
          const token = typeof input === 'string' ? input : await signer.sign(input);
          await authenticate(typeof input === 'string' ? show(input) : `signed claims ${show(input)}`, token);
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 3000, seed: FUZZ_SEED },
    );
    process.stdout.write(`  fuzz-http: ${accepted.size} fuzzed assertions authenticated, each valid and once\n`);
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 180_000);

  it('the event stream refuses bad tokens, tenants and positions with a 4xx', async () => {
    const path = (tenant: string, query = '') => `/v1/tenants/${tenant}/events/stream${query}`;
    for (const authorization of tokenTraps(ADMIN_TOKEN, acmeKey)) {
      const res = await hit('GET events/stream', `authorization ${show(authorization)}`, {
        method: 'GET',
        path: path('acme'),
        authorization,
      });
      if (res.status !== 401 && res.status !== 431)
        tally.add('GET events/stream', `authorization ${show(authorization)}`, `expected 401, got ${res.status}`);
    }
    for (const weird of weirdStrings.filter((w) => w !== '' && !/^\d+$/.test(w))) {
      const encoded = percentEncode(weird);
      await hit('GET events/stream', `after=${show(weird)}`, {
        method: 'GET',
        path: path('acme', `?after=${encoded}`),
        authorization: ADMIN,
      });
      await hit('GET events/stream', `tenant=${show(weird)}`, {
        method: 'GET',
        path: path(encoded),
        authorization: ADMIN,
      });
      if (/^[\x20-\x7e]*$/.test(weird) && weird.length < 4000)
        await hit('GET events/stream', `Last-Event-ID ${show(weird)}`, {
          method: 'GET',
          path: path('acme'),
          authorization: ADMIN,
          headers: { 'last-event-id': weird },
        });
    }
    await hit('GET events/stream', 'after twice', {
      method: 'GET',
      path: path('acme', '?after=1&after=2'),
      authorization: ADMIN,
    });
    await hit('GET events/stream', "another tenant's key", {
      method: 'GET',
      path: path('beta'),
      authorization: bearer(acmeKey),
    });
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  });

  it('every client_id trap, on every route that takes a client_id', async () => {
    const origin = `https://${new URL(cached).host}`;
    for (const trap of clientIdTraps(new URL(cached).host)) {
      const redirect = `${origin}/callback`;
      await hit(
        'POST authorize/check',
        trap,
        json('POST authorize/check', { client_id: trap, redirect_uri: redirect }),
      );
      await hit(
        'POST authorize/check (key)',
        trap,
        json('POST authorize/check', { client_id: trap, redirect_uri: trap }, bearer(acmeKey)),
      );
      await hit('POST clients/refresh', trap, json('POST clients/refresh', { client_id: trap }));
      await hit('POST sessions', trap, json('POST sessions', { session_id: 'trap', client_id: trap }));
      await hit('GET clients', trap, {
        method: 'GET',
        path: `/v1/clients?client_id=${percentEncode(trap)}`,
        authorization: ADMIN,
      });
      // As typed, unencoded (control characters and spaces go out as raw bytes).
      await hit('GET clients (raw)', trap, {
        method: 'GET',
        path: `/v1/clients?client_id=${trap}`,
        authorization: ADMIN,
      });
      await hit(
        'POST /v1/tenants (policy)',
        trap,
        json('POST /v1/tenants', { id: 'trap-t', policy: { allowed_client_ids: [trap], trusted_client_ids: [trap] } }),
      );
    }
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  });

  it('fast-check: malformed client_ids and redirect URIs on authorize, clients, refresh and sessions', async () => {
    const origin = `https://${new URL(cached).host}`;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST authorize/check', 'GET clients', 'POST clients/refresh', 'POST sessions'),
        arbClientId(origin),
        fc.oneof(arbClientId(origin), fc.constant(`${origin}/callback`)),
        fc.boolean(),
        async (name, clientId, redirect, useKey) => {
          const token = useKey ? bearer(acmeKey) : ADMIN;
          let r: RawRequest;
          if (name === 'GET clients')
            r = { method: 'GET', path: `/v1/clients?client_id=${percentEncode(clientId)}`, authorization: token };
          else if (name === 'POST authorize/check')
            r = json(name, { client_id: clientId, redirect_uri: redirect, scope: redirect }, token);
          else if (name === 'POST sessions')
            r = json(name, { session_id: `fc-${clientId.length}`, client_id: clientId, subject: redirect }, token);
          else r = json(name, { client_id: clientId }, ADMIN);
          await hit(name, show(clientId), r);
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 3000, seed: FUZZ_SEED },
    );
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);

  it('invalid JSON, non-UTF-8 bytes, deep nesting and oversized bodies on every body route', async () => {
    for (const r of [...BODY_ROUTES, route('POST keys')]) {
      for (const { name, body } of badBodies()) {
        await hit(r.name, name, {
          method: r.method,
          path: r.path({}),
          authorization: ADMIN,
          contentType: 'application/json',
          body,
        });
      }
    }
    // Bodies on routes that take none, and a body larger than the limit without a content type.
    for (const r of ROUTES.filter((x) => !x.body)) {
      await hit(r.name, 'junk body', {
        method: r.method,
        path: r.path({}),
        authorization: ADMIN,
        contentType: 'application/json',
        body: '{',
      });
    }
    // 10 MiB announced: refused (413) on the Content-Length alone, before any of it is read.
    const tenMiB = { authorization: ADMIN, 'content-type': 'application/json', 'content-length': String(10 << 20) };
    const announced = await sendRaw(port, 'POST', '/v1/tenants/acme/authorize/check', tenMiB, undefined);
    tally.add('POST authorize/check', '10 MiB announced', judgeHttp(announced, { allow2xx: false }), announced.status);
    // 10 MiB sent in one go: the 413 arrives whole, not lost to a reset (the gateway lingers).
    const sent = await sendRaw(port, 'POST', '/v1/tenants/acme/authorize/check', tenMiB, Buffer.alloc(10 << 20, 0x20));
    tally.add('POST authorize/check', '10 MiB sent', judgeHttp(sent, { allow2xx: false }), sent.status);
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);

  it('wrong content types on every body route', async () => {
    for (const r of BODY_ROUTES) {
      for (const type of contentTypes) {
        await hit(r.name, `content-type ${String(type)}`, {
          method: r.method,
          path: r.path({}),
          authorization: ADMIN,
          contentType: type,
          body: JSON.stringify(r.body?.()),
        });
      }
    }
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  });

  it('fast-check: wrong JSON types, unknown fields and odd values in every body', async () => {
    const fields: Record<string, string[]> = {
      'POST /v1/tenants': ['id', 'policy'],
      'PUT policy': [
        'allow_hosts',
        'deny_hosts',
        'allowlist_only',
        'allowed_client_ids',
        'trusted_client_ids',
        'new_client_warning_seconds',
        'stale_if_error_seconds',
        'on_change',
        'webhook',
      ],
      'POST authorize/check': ['client_id', 'redirect_uri', 'response_type', 'scope', 'code_challenge_method'],
      'POST clients/refresh': ['client_id'],
      'POST sessions': ['session_id', 'client_id', 'subject', 'expires_at'],
      'POST clients/authenticate': ['client_id', 'client_assertion_type', 'client_assertion'],
      'POST policy/validate': ['deny_hosts', 'issuer', 'token_endpoint', 'max_assertion_lifetime_seconds', 'on_change'],
      'POST policy/dry-run': ['allow_hosts', 'allowlist_only', 'require_assertion_typ', 'deny_idn_hosts'],
    };
    const oddStrings = fc.constantFrom(
      '\u0000',
      'a\u0000b',
      '\ud800',
      'https://client.test/\u0000',
      '2026-02-31T00:00:00Z',
      '2026-02-30T25:61:61Z',
      '0000-01-01T00:00:00Z',
      '9999-12-31T23:59:59-23:59',
      '+275760-09-13T00:00:00Z',
      '2026-01-01T00:00:00.123456789Z',
      '1970-01-01T00:00:00Z',
      'x'.repeat(300),
      '*.test',
      '*',
      '**.test',
      'xn--',
      'revoke',
    );
    const value: fc.Arbitrary<unknown> = fc.oneof(
      { weight: 3, arbitrary: arbJsonValue },
      { weight: 3, arbitrary: oddStrings },
      { weight: 2, arbitrary: fc.array(fc.oneof(oddStrings, arbJsonValue), { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.constantFrom(2 ** 53, -(2 ** 31), 1e21, 0.1, 86_400 * 8) },
      {
        weight: 1,
        arbitrary: fc.record({
          url: fc.oneof(
            fc.constantFrom('https://hooks.invalid/x', 'http://hooks.invalid/x', 'https://127.0.0.1/'),
            arbJsonValue,
          ),
          secret: fc.oneof(fc.constantFrom('s'.repeat(16), 's'.repeat(300), '\u0000'.repeat(16)), arbJsonValue),
        }),
      },
    );
    const names = Object.keys(fields);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.nat(),
        fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 2 }),
        fc.array(value, { minLength: 5, maxLength: 9 }),
        fc.boolean(),
        async (name, mask, extra, values, keepValid) => {
          const r = route(name);
          const body: Record<string, unknown> = keepValid ? { ...r.body?.() } : {};
          (fields[name] ?? []).forEach((field, i) => {
            if ((mask >> i) & 1) body[field] = values[i % values.length];
          });
          if (mask % 7 === 0) Object.assign(body, extra);
          if (name === 'POST /v1/tenants' && typeof body.id === 'string' && mask % 3 === 0) body.id = `t${mask % 1000}`;
          if (name === 'POST /v1/tenants' && mask % 5 === 0) body.policy = { ...extra, allowed_client_ids: values };
          const token = name === 'POST authorize/check' && mask % 2 === 0 ? bearer(acmeKey) : ADMIN;
          await hit(name, show(body), {
            method: r.method,
            path: r.path({}),
            authorization: token,
            contentType: 'application/json',
            body: JSON.stringify(body),
          });
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 4000, seed: FUZZ_SEED },
    );
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);

  it('bad, missing and malformed tokens on every authenticated route', async () => {
    for (const r of AUTH_ROUTES) {
      for (const authorization of tokenTraps(ADMIN_TOKEN, acmeKey)) {
        const res = await hit(
          r.name,
          `authorization ${show(authorization)}`,
          {
            method: r.method,
            path: r.path({}),
            authorization,
            contentType: r.body ? 'application/json' : null,
            body: r.body ? JSON.stringify(r.body()) : undefined,
          },
          { allow2xx: false },
        );
        if (res.status !== 401 && res.status !== 431)
          tally.add(r.name, `authorization ${show(authorization)}`, `expected 401, got ${res.status}`);
      }
    }
    // Authorization twice, and a header with a NUL or a line break in it.
    for (const [label, lines] of [
      ['two Authorization headers', ['authorization: Bearer nope', `authorization: ${ADMIN}`]],
      ['NUL in token', [`authorization: Bearer ${ADMIN_TOKEN}\u0000`]],
      ['CR in token', [`authorization: Bearer ${ADMIN_TOKEN}\rx`]],
      ['obs-fold', [`authorization: Bearer`, ` ${ADMIN_TOKEN}`]],
    ] as const) {
      const res = await sendRaw(port, 'GET', '/v1/tenants/acme/policy', {}, undefined, 10_000, [...lines]);
      tally.add('GET policy', label, judgeHttp(res, { allow2xx: false }), res.status);
    }
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  });

  it('weird path parameters and query strings', async () => {
    const encodings = (s: string) => [...new Set([s, percentEncode(s)])];
    for (const weird of weirdStrings) {
      for (const w of encodings(weird)) {
        for (const r of ROUTES) {
          const params = r.path.length > 0 ? PATH_PARAMS : [];
          for (const param of params) {
            const path = r.path({ [param]: w });
            if (path === r.path({})) continue;
            await hit(r.name, `${param}=${show(w)}`, {
              method: r.method,
              path,
              authorization: ADMIN,
              contentType: r.body ? 'application/json' : null,
              body: r.body ? JSON.stringify(r.body()) : undefined,
            });
          }
        }
        for (const q of [`?after=${w}`, `?limit=${w}`, `?after=0&limit=${w}&after=${w}`]) {
          await hit('GET events', q, {
            method: 'GET',
            path: route('GET events').path({ query: q }),
            authorization: ADMIN,
          });
        }
        for (const q of [
          `?client_id=${w}`,
          `?client_id=${w}&client_id=${w}`,
          `?client_id[]=${w}`,
          `?client_id[a]=${w}`,
        ]) {
          await hit('GET clients', q, {
            method: 'GET',
            path: route('GET clients').path({ query: q }),
            authorization: ADMIN,
          });
        }
      }
    }
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.constantFrom(...PATH_PARAMS, 'query'),
        fc.oneof(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(percentEncode),
          fc.string({
            unit: fc.constantFrom('%', '2', 'e', 'f', 'F', '.', '/', 'a', '-', '0'),
            minLength: 1,
            maxLength: 20,
          }),
        ),
        async (r, param, value) => {
          const path = param === 'query' ? r.path({ query: `?${value}` }) : r.path({ [param]: value });
          await hit(r.name, `${param}=${value}`, {
            method: r.method,
            path,
            authorization: ADMIN,
            contentType: r.body ? 'application/json' : null,
            body: r.body ? JSON.stringify(r.body()) : undefined,
          });
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 2000, seed: FUZZ_SEED },
    );
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);

  it('malformed HTTP: unknown methods and routes, raw bytes in the request line, huge headers, broken framing', async () => {
    for (const method of ['PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'PUT', 'DELETE']) {
      for (const r of ROUTES) {
        if (r.method === method) continue;
        await hit(`${method} ${r.name}`, method, { method, path: r.path({}), authorization: ADMIN });
      }
    }
    // The operations routes (no token): other methods, junk query strings and bodies.
    for (const path of ['/healthz', '/readyz', '/metrics', '/docs/openapi.json']) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
        await hit(`${method} ${path}`, method, {
          method,
          path: `${path}?%ZZ=%00&a[b]=1&a=2`,
          contentType: 'application/json',
          body: '{',
        });
      }
    }
    for (const path of [
      '/',
      '/v1',
      '/v1/',
      '/v1/tenants',
      '/v1/tenants/acme',
      '/v1/tenants/acme/',
      '/v2/tenants',
      '/v1/tenants/acme/authorize',
      '/v1//tenants//acme/policy',
      '/v1/tenants/acme/policy/',
      '/v1/tenants/acme/policy?',
      '/v1/tenants/acme/policy#x',
      '/%',
      '/v1/%zz',
      '/..%2f..%2fetc/passwd',
      `/${'a'.repeat(600)}`,
      `/v1/tenants/${'a'.repeat(600)}/policy`,
      `/v1/tenants/${'a'.repeat(15_000)}/policy`,
      `/v1/clients?client_id=https://client.test/${'a'.repeat(100_000)}`,
    ]) {
      await hit('GET any', path.slice(0, 80), { method: 'GET', path, authorization: ADMIN });
    }
    const raw: [string, string, string, Record<string, string>, Buffer | undefined, string[]][] = [
      ['control char in path', 'GET', '/v1/tenants/ac\u0001me/policy', { authorization: ADMIN }, undefined, []],
      ['space in path', 'GET', '/v1/tenants/ac me/policy', { authorization: ADMIN }, undefined, []],
      ['tab in path', 'GET', '/v1/tenants/ac\tme/policy', { authorization: ADMIN }, undefined, []],
      ['latin1 bytes in path', 'GET', '/v1/tenants/\u00e9\u00ff/policy', { authorization: ADMIN }, undefined, []],
      [
        'absolute URI',
        'GET',
        `http://127.0.0.1:${port}/v1/tenants/acme/policy`,
        { authorization: ADMIN },
        undefined,
        [],
      ],
      ['asterisk', 'OPTIONS', '*', {}, undefined, []],
      [
        'huge header',
        'GET',
        '/v1/tenants/acme/policy',
        { authorization: ADMIN, 'x-big': 'a'.repeat(40_000) },
        undefined,
        [],
      ],
      [
        '100 KB client_id in the URL',
        'GET',
        `/v1/clients?client_id=https://client.test/${'a'.repeat(100_000)}`,
        { authorization: ADMIN },
        undefined,
        [],
      ],
      [
        'CL and TE',
        'POST',
        '/v1/clients/refresh',
        {
          authorization: ADMIN,
          'content-type': 'application/json',
          'content-length': '2',
          'transfer-encoding': 'chunked',
        },
        Buffer.from('0\r\n\r\n'),
        [],
      ],
      [
        'bad chunk size',
        'POST',
        '/v1/clients/refresh',
        { authorization: ADMIN, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        Buffer.from('zz\r\n{}\r\n0\r\n\r\n'),
        [],
      ],
      [
        'chunked over the limit',
        'POST',
        '/v1/clients/refresh',
        { authorization: ADMIN, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        Buffer.from(`${(70_000).toString(16)}\r\n${'a'.repeat(70_000)}\r\n0\r\n\r\n`),
        [],
      ],
      [
        'negative content-length',
        'POST',
        '/v1/clients/refresh',
        { authorization: ADMIN, 'content-type': 'application/json', 'content-length': '-1' },
        undefined,
        [],
      ],
      [
        'two content-lengths',
        'POST',
        '/v1/clients/refresh',
        { authorization: ADMIN, 'content-type': 'application/json' },
        Buffer.from('{}'),
        ['content-length: 2', 'content-length: 3'],
      ],
      ['bad header name', 'GET', '/v1/tenants/acme/policy', { authorization: ADMIN }, undefined, ['bad header: x']],
      [
        'two content types',
        'POST',
        '/v1/clients/refresh',
        { authorization: ADMIN, 'content-length': '2' },
        Buffer.from('{}'),
        ['content-type: application/json', 'content-type: text/plain'],
      ],
    ];
    for (const [label, method, path, headers, body, lines] of raw) {
      const res = await sendRaw(port, method, path, headers, body, 10_000, lines);
      tally.add('raw HTTP', label, judgeHttp(res), res.status);
    }
    const http10 = await sendRaw(
      port,
      'GET',
      '/v1/tenants/acme/policy HTTP/1.0\r\nx:',
      { authorization: 'x' },
      undefined,
    );
    tally.add('raw HTTP', 'HTTP/1.0 with junk', judgeHttp(http10), http10.status);
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);
});
