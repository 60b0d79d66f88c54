import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import {
  arbClientId,
  clientIdTraps,
  FUZZ_LIMITS,
  FUZZ_SEED,
  show,
  Tally,
  tokenTraps,
  warmClient,
  weirdStrings,
} from './support/bad-input';
import {
  authMetadata,
  codeName,
  gatewayClient,
  GrpcResult,
  judgeGrpc,
  pbField,
  pbVarint,
  UNARY_RPCS,
  unary,
  unaryBytes,
  watch,
} from './support/grpc-client';
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
 * Bad input, gRPC: every RPC of cimd.v1.Gateway with malformed fields (the
 * client_id traps, odd identifiers, binary and huge strings), invalid UTF-8 and wrong wire
 * types on the wire, and bad metadata tokens. No INTERNAL or UNKNOWN status, the gateway keeps
 * serving, and every refusal is a clear status whose message is `<error>: <description>` with
 * the `cimd-error` trailer (support/grpc-client.ts, judgeGrpc).
 */
const FILE = __filename;
const tally = new Tally();
let stack: ProcessStack;
let client: grpc.Client;
let acmeKey: string;
let cached: string;
let pkjwt: string;
let signer: AssertionSigner;
const AS = { issuer: 'https://as.fuzz.test', token_endpoint: 'https://as.fuzz.test/token' };
const ADMIN = `Bearer ${ADMIN_TOKEN}`;

/** The fields of each request message, and a valid request. */
const FIELDS: Record<string, string[]> = {
  CheckAuthorization: ['tenant', 'client_id', 'redirect_uri', 'response_type', 'scope', 'code_challenge_method'],
  GetClient: ['client_id'],
  RegisterSession: ['tenant', 'session_id', 'client_id', 'subject', 'expires_at'],
  CheckSession: ['tenant', 'session_id'],
  RevokeSession: ['tenant', 'session_id'],
  WatchEvents: ['tenant', 'after_id'],
  AuthenticateClient: ['tenant', 'client_id', 'client_assertion_type', 'client_assertion'],
};

let revocable = 0;
function validRequest(rpc: string): Record<string, string> {
  const host = new URL(cached).host;
  switch (rpc) {
    case 'CheckAuthorization':
      return {
        tenant: 'acme',
        client_id: cached,
        redirect_uri: `https://${host}/callback`,
        code_challenge_method: 'S256',
      };
    case 'GetClient':
      return { client_id: cached };
    case 'RegisterSession':
      return { tenant: 'acme', session_id: `g-${revocable++}`, client_id: cached };
    case 'CheckSession':
      return { tenant: 'acme', session_id: 's1' };
    case 'RevokeSession':
      return { tenant: 'acme', session_id: `g-${Math.max(0, revocable - 1)}` };
    case 'AuthenticateClient':
      return { tenant: 'acme', client_id: cached };
    default:
      return { tenant: 'acme', after_id: '0' };
  }
}

const size = (request: Record<string, unknown>) =>
  Object.values(request).reduce<number>((n, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) : 0), 0);

async function call(rpc: string, request: Record<string, unknown>, metadata: grpc.Metadata): Promise<GrpcResult> {
  return rpc === 'WatchEvents' ? watch(client, request, metadata, 150) : unary(client, rpc, request, metadata);
}

function judge(rpc: string, input: string, r: GrpcResult, options: { allowOk?: boolean; oversized?: boolean } = {}) {
  let problem = judgeGrpc(r, options);
  if (problem && (r.code === grpc.status.INTERNAL || r.code === grpc.status.UNKNOWN))
    problem += ` (gateway: ${lastGatewayError()})`;
  // INTERNAL and UNKNOWN are the gRPC twins of a 5xx.
  tally.add(rpc, input, problem, r.code === grpc.status.INTERNAL || r.code === grpc.status.UNKNOWN ? 500 : r.code);
}

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

async function expectAlive(): Promise<void> {
  expect(stack.gateway.running).toBe(true);
  const r = await unary(
    client,
    'CheckAuthorization',
    validRequest('CheckAuthorization'),
    authMetadata(`Bearer ${acmeKey}`),
  );
  expect({ code: codeName(r.code), decision: r.response?.decision }).toEqual({ code: 'OK', decision: 'allow' });
}

/** The token traps a gRPC client can send at all (metadata values are printable ASCII), under 8 KB. */
function grpcTokenTraps(): (string | null)[] {
  return tokenTraps(ADMIN_TOKEN, acmeKey).filter((t) => t === null || (t.length < 8000 && /^[\x20-\x7e]*$/.test(t)));
}

let mark = 0;
beforeEach(() => {
  mark = tally.problems.size;
});

beforeAll(async () => {
  stack = await ProcessStack.start('fuzz-grpc', { gatewayEnv: { CIMD_AUTHORIZE_WAIT_MS: '300' } });
  stack.origin.prefix('/', serveDocument());
  for (const id of ['acme', 'beta']) await stack.expect(201, 'POST', '/v1/tenants', { id });
  acmeKey = (await stack.expect(201, 'POST', '/v1/tenants/acme/keys')).body.key as string;
  cached = stack.clientId('/cached.json');
  await warmClient(stack, 'acme', cached);
  await stack.expect(201, 'POST', '/v1/tenants/acme/sessions', { session_id: 's1', client_id: cached });
  client = gatewayClient(stack.grpcPort);
  pkjwt = stack.clientId('/pkjwt.json');
  signer = assertionSigner(pkjwt, AS.token_endpoint);
  stack.origin.json(
    '/pkjwt.json',
    documentFor(pkjwt, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [signer.jwk] } }),
  );
  await stack.expect(200, 'PUT', '/v1/tenants/acme/policy', AS);
  await warmClient(stack, 'acme', pkjwt);
  process.stdout.write(`  fuzz-grpc: FUZZ_SEED=${FUZZ_SEED}\n`);
}, 120_000);

afterAll(async () => {
  client?.close();
  record(
    'bad_inputs',
    { tried: tally.tried, passed: tally.passed, fivexx: tally.fivexx, details: tally.list().slice(0, 50) },
    FILE,
  );
  process.stdout.write(
    `  fuzz-grpc: ${tally.tried} inputs, ${tally.passed} answered properly, ${tally.fivexx} INTERNAL/UNKNOWN, ${tally.problems.size} kinds of problem\n`,
  );
  await stack?.stop();
});

describe('gRPC API under bad input', () => {
  it('every client_id trap and odd identifier in every field of every RPC', async () => {
    const values = [...clientIdTraps(new URL(cached).host), ...weirdStrings];
    for (const [rpc, fields] of Object.entries(FIELDS)) {
      for (const field of fields) {
        for (const value of values) {
          const request = { ...validRequest(rpc), [field]: value };
          const r = await call(rpc, request, authMetadata(ADMIN));
          judge(`${rpc}.${field}`, show(value), r, { oversized: size(request) > 60_000 });
        }
      }
    }
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);

  it('fast-check: random requests, tokens and field values on every RPC', async () => {
    const origin = `https://${new URL(cached).host}`;
    const value = fc.oneof(
      { weight: 3, arbitrary: arbClientId(origin) },
      { weight: 2, arbitrary: fc.constantFrom(...weirdStrings) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('acme', 'beta', 's1', 'S256', 'code', 'plain', '0', '2026-12-01T00:00:00Z'),
      },
      { weight: 1, arbitrary: fc.nat({ max: 70_000 }).map((n) => 'x'.repeat(n)) },
    );
    const tokens = [ADMIN, `Bearer ${acmeKey}`, ...grpcTokenTraps()];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(FIELDS)),
        fc.nat(),
        fc.array(value, { minLength: 6, maxLength: 6 }),
        fc.constantFrom(...tokens),
        async (rpc, mask, values, token) => {
          const request: Record<string, unknown> = { ...validRequest(rpc) };
          (FIELDS[rpc] ?? []).forEach((field, i) => {
            if ((mask >> i) & 1) request[field] = values[i];
            else if ((mask >> (i + 8)) & 1) delete request[field];
          });
          const r = await call(rpc, request, authMetadata(token));
          judge(rpc, `${show(request)} ${show(token)}`, r, { oversized: size(request) > 60_000 });
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 2500, seed: FUZZ_SEED },
    );
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 180_000);

  it('AuthenticateClient with attacker-written assertions: traps, random and mutated JWTs (SPEC-NOTES 27)', async () => {
    const accepted = new Set<string>();
    const authenticated: string[] = [];
    const authenticate = async (input: string, assertion: string) => {
      const r = await unary(
        client,
        'AuthenticateClient',
        { tenant: 'acme', client_id: pkjwt, client_assertion_type: JWT_BEARER, client_assertion: assertion },
        authMetadata(`Bearer ${acmeKey}`),
      );
      judge('AuthenticateClient (assertion)', input, r, { oversized: assertion.length > 60_000 });
      const res = r.response as { authenticated?: boolean; reason?: string } | undefined;
      if (r.code === grpc.status.OK && !res?.authenticated && !/^[a-z_]+(\.[a-z_]+)+$/.test(res?.reason ?? ''))
        tally.add('AuthenticateClient (assertion)', input, `refused without a rule code: ${show(res?.reason)}`);
      if (!res?.authenticated) return;
      authenticated.push(input);
      const why = claimsAreValid(assertion, pkjwt, [AS.issuer, AS.token_endpoint]);
      if (why) tally.add('AuthenticateClient (assertion)', input, `authenticated although ${why}`);
      const jti = String(JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString()).jti);
      if (accepted.has(jti)) tally.add('AuthenticateClient (assertion)', input, `jti ${show(jti)} used twice`);
      accepted.add(jti);
    };
    for (const [name, token] of await assertionTraps(signer)) await authenticate(name, token);
    expect(authenticated).toEqual(ODD_BUT_VALID);
    const good = await signer.valid();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), arbJwtShaped, arbMutation(good), arbClaimChanges),
        async (input: string | Record<string, unknown>) => {
          const token = typeof input === 'string' ? input : await signer.sign(input);
          await authenticate(typeof input === 'string' ? show(input) : `signed claims ${show(input)}`, token);
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 1500, seed: FUZZ_SEED },
    );
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);

  // (Two `authorization` values cannot be sent: Node's HTTP/2 refuses them on the client side.)
  it('bad, missing and malformed tokens in the metadata of every RPC', async () => {
    const traps = grpcTokenTraps();
    for (const rpc of Object.keys(FIELDS)) {
      for (const token of traps) {
        const r = await call(rpc, validRequest(rpc), authMetadata(token));
        judge(rpc, `authorization ${show(token)}`, r, { allowOk: false });
        if (r.code !== grpc.status.UNAUTHENTICATED)
          tally.add(rpc, `authorization ${show(token)}`, `expected UNAUTHENTICATED, got ${codeName(r.code)}`);
      }
      for (const [label, metadata] of [
        ['Authorization spelled in capitals', authMetadata(null, [['Authorization', ADMIN.toUpperCase()]])],
        [
          'authorization-bin',
          (() => {
            const m = new grpc.Metadata();
            m.set('authorization-bin', Buffer.from(ADMIN));
            return m;
          })(),
        ],
        ['a token of 20 KB', authMetadata(`Bearer ${'a'.repeat(20_000)}`)],
      ] as const) {
        const r = await call(rpc, validRequest(rpc), metadata);
        judge(rpc, label, r, { allowOk: false });
      }
    }
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);

  it('invalid UTF-8, wrong wire types, truncated, unknown and oversized messages on the wire', async () => {
    const tenant = pbField(1, 'acme');
    const raw: [string, Buffer][] = [
      ['empty message', Buffer.alloc(0)],
      ['invalid UTF-8 in field 1', pbField(1, Buffer.from([0xff, 0xfe, 0xc0, 0xae]))],
      [
        'invalid UTF-8 in field 2',
        Buffer.concat([tenant, pbField(2, Buffer.from([0x68, 0x74, 0xed, 0xa0, 0x80, 0xff]))]),
      ],
      ['overlong UTF-8 NUL in field 2', Buffer.concat([tenant, pbField(2, Buffer.from([0xc0, 0x80]))])],
      ['invalid UTF-8 in field 3', Buffer.concat([tenant, pbField(2, cached), pbField(3, Buffer.from([0x80, 0x80]))])],
      ['field 1 as a varint', pbVarint(1, 42)],
      ['field 2 as a varint', Buffer.concat([tenant, pbVarint(2, 1)])],
      ['field 1 as a nested message', pbField(1, pbField(1, 'x'))],
      ['unknown fields', Buffer.concat([tenant, pbField(99, 'x'), pbVarint(100, 7)])],
      ['field 0', Buffer.from([0x02, 0x01, 0x61])],
      ['truncated length', Buffer.from([0x0a, 0x10, 0x61])],
      ['truncated varint', Buffer.from([0x08, 0xff, 0xff])],
      ['wire type 7', Buffer.from([0x0f, 0x01])],
      ['group start', Buffer.from([0x0b])],
      ['repeated field 1', Buffer.concat([pbField(1, 'beta'), pbField(1, 'acme')])],
      ['JSON instead of protobuf', Buffer.from(JSON.stringify({ tenant: 'acme', client_id: cached }))],
      ['HTTP request instead of protobuf', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
      ['all byte values', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
      ['70 KB string', pbField(2, 'a'.repeat(70_000))],
      ['1 MB string', pbField(2, 'a'.repeat(1024 * 1024))],
    ];
    const rpcs = [...UNARY_RPCS];
    for (const rpc of rpcs) {
      for (const [label, bytes] of raw) {
        const r = await unaryBytes(client, rpc, bytes, authMetadata(ADMIN));
        judge(rpc, label, r, { oversized: bytes.length > 64 * 1024 });
      }
    }
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...rpcs),
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .array(fc.tuple(fc.integer({ min: 1, max: 7 }), fc.uint8Array({ maxLength: 40 })), { maxLength: 6 })
            .map((fields) => Uint8Array.from(Buffer.concat(fields.map(([n, v]) => pbField(n, Buffer.from(v)))))),
        ),
        async (rpc, bytes) => {
          const r = await unaryBytes(client, rpc, Buffer.from(bytes), authMetadata(ADMIN));
          judge(rpc, `<${bytes.length} bytes> ${Buffer.from(bytes).toString('hex').slice(0, 80)}`, r);
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 1000, seed: FUZZ_SEED },
    );
    expect(tally.list(mark)).toEqual([]);
    await expectAlive();
  }, 120_000);
});
