import fc from 'fast-check';
import { createHmac, generateKeyPairSync, type JsonWebKey, type KeyObject, randomUUID, sign } from 'node:crypto';
import { arbJsonValue } from './bad-input';

/**
 * Client assertions written by an attacker, for the fuzz tests of client authentication: a
 * signer holding the client's real key (so claims can be wrong while the signature is right),
 * hand-made traps (alg none, HS256 keyed with the public key, JWE-shaped, embedded keys, odd
 * claim types) and fast-check arbitraries of random and mutated JWTs. `claimsAreValid` is the
 * test's own reading of the assertion rules (SPEC-NOTES 27): a token the gateway authenticates
 * must pass it.
 */

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AssertionSigner {
  clientId: string;
  audience: string;
  /** The public key as the client's document publishes it. */
  jwk: JsonWebKey;
  /** A fresh, valid assertion. */
  valid(): Promise<string>;
  /** The valid claims with `change` applied (undefined removes a claim), signed with the real key. */
  sign(change?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

export function assertionSigner(clientId: string, audience: string): AssertionSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid: 'fuzz-1', alg: 'ES256', use: 'sig' };
  const signed = (change: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    Promise.resolve(
      signClaims(
        privateKey,
        { ...validClaims(clientId, audience), ...change },
        { alg: 'ES256', kid: 'fuzz-1', ...header },
      ),
    );
  return { clientId, audience, jwk, valid: () => signed(), sign: signed };
}

function validClaims(clientId: string, audience: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + 60, jti: randomUUID() };
}

/** Signed by hand (ES256, JWS's raw r||s form) so that any header and any claims can be signed. */
function signClaims(key: KeyObject, claims: Record<string, unknown>, header: Record<string, unknown>): string {
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/**
 * A valid assertion holding a `-` or `_`, so that its standard-base64 spelling is another string:
 * about one signature in fifteen has neither, and its "standard" spelling would be itself.
 */
async function urlSafeSpelled(s: AssertionSigner): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const token = await s.valid();
    if (/[-_]/.test(token)) return token;
  }
  throw new Error('100 signatures in a row without - or _');
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** header.payload.signature from parts given as JSON values or raw strings. */
export function compact(header: unknown, payload: unknown, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

/**
 * Named assertions: all must be refused (never a 5xx), except the ones listed in ODD_BUT_VALID,
 * which the rules accept (each once).
 */
export async function assertionTraps(s: AssertionSigner): Promise<[string, string][]> {
  const good = await s.valid();
  const [h, p, sig] = good.split('.') as [string, string, string];
  const claims = validClaims(s.clientId, s.audience);
  const hs256 = (secret: string, payload = claims) => {
    const input = `${b64({ alg: 'HS256', kid: 'fuzz-1', typ: 'JWT' })}.${b64(payload)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const now = Math.floor(Date.now() / 1000);
  const traps: [string, string | Promise<string>][] = [
    ['empty', ''],
    ['one dot', '.'],
    ['two dots', '..'],
    ['four dots', '....'],
    ['two parts', `${h}.${p}`],
    ['four parts', `${good}.${sig}`],
    ['JWE shape (five parts)', `${h}.${p}.${sig}.${sig}.${sig}`],
    ['whitespace around', ` ${good} `],
    ['newline inside', `${h}.\n${p}.${sig}`],
    ['padding', `${h}=.${p}==.${sig}=`],
    ['standard base64', (await urlSafeSpelled(s)).replace(/-/g, '+').replace(/_/g, '/')],
    ['not base64', `${h}.${p}.!!!`],
    ['signature empty', `${h}.${p}.`],
    ['signature truncated', `${h}.${p}.${sig.slice(0, 20)}`],
    ['signature of another token', `${h}.${p}.${(await s.valid()).split('.')[2]}`],
    ['payload swapped', `${h}.${b64({ ...claims, sub: 'https://evil.test/c.json' })}.${sig}`],
    ['header not JSON', `${b64('{alg')}.${p}.${sig}`],
    ['header a string', `${b64('"ES256"')}.${p}.${sig}`],
    ['header an array', `${b64([{ alg: 'ES256' }])}.${p}.${sig}`],
    ['header null', `${b64('null')}.${p}.${sig}`],
    ['payload not JSON', `${h}.${b64('not json')}.${sig}`],
    ['payload an array', `${h}.${b64([claims])}.${sig}`],
    ['payload a number', `${h}.${b64('42')}.${sig}`],
    ['alg none', compact({ alg: 'none' }, claims)],
    ['alg None', compact({ alg: 'None' }, claims)],
    ['alg none with signature', compact({ alg: 'none', kid: 'fuzz-1' }, claims, sig)],
    ['alg missing', compact({ kid: 'fuzz-1' }, claims, sig)],
    ['alg a number', compact({ alg: 256, kid: 'fuzz-1' }, claims, sig)],
    ['HS256 keyed with the public JWK', hs256(JSON.stringify(s.jwk))],
    ['HS256 keyed with x', hs256(String(s.jwk.x))],
    ['HS256 keyed with nothing', hs256('')],
    ['embedded jwk', compact({ alg: 'ES256', jwk: s.jwk }, claims, sig)],
    ['jku', compact({ alg: 'ES256', jku: 'https://169.254.169.254/jwks' }, claims, sig)],
    ['x5u', compact({ alg: 'ES256', x5u: 'https://127.0.0.1/cert' }, claims, sig)],
    ['crit unknown', s.sign({}, { crit: ['exp'], exp: 1 })],
    ['crit not an array', s.sign({}, { crit: 'b64' })],
    ['alg RS256 on an EC key', s.sign({}, { alg: 'RS256' })],
    ['alg ES512 on a P-256 key', s.sign({}, { alg: 'ES512' })],
    ['alg none, signed', s.sign({}, { alg: 'none' })],
    ['kid unknown', s.sign({}, { kid: 'not-there' })],
    ['b64 false', s.sign({}, { b64: false, crit: ['b64'] })],
    ['kid path traversal', s.sign({}, { kid: '../../etc/passwd' })],
    ['kid huge', s.sign({}, { kid: 'k'.repeat(20_000) })],
    ['kid an object', s.sign({}, { kid: { $gt: '' } })],
    ['typ wrong', s.sign({}, { typ: 'at+jwt' })],
    ['typ an array', s.sign({}, { typ: ['JWT'] })],
    ['iss missing', s.sign({ iss: undefined })],
    ['iss another client', s.sign({ iss: 'https://evil.test/c.json' })],
    ['iss with a trailing slash', s.sign({ iss: `${s.clientId}/` })],
    ['iss differs in case', s.sign({ iss: s.clientId.toUpperCase() })],
    ['iss an array', s.sign({ iss: [s.clientId] })],
    ['sub missing', s.sign({ sub: undefined })],
    ['sub a number', s.sign({ sub: 1 })],
    ['aud missing', s.sign({ aud: undefined })],
    ['aud another AS', s.sign({ aud: 'https://evil.test' })],
    ['aud an empty array', s.sign({ aud: [] })],
    ['aud an object', s.sign({ aud: { [s.audience]: true } })],
    ['aud 10 000 entries', s.sign({ aud: Array.from({ length: 10_000 }, (_, i) => `https://a${i}.test`) })],
    ['exp missing', s.sign({ exp: undefined })],
    ['exp a string', s.sign({ exp: String(now + 60) })],
    ['exp past', s.sign({ exp: now - 3600 })],
    ['exp far future', s.sign({ exp: now + 10 * 365 * 86_400 })],
    ['exp 1e308', s.sign({ exp: 1e308 })],
    ['exp negative', s.sign({ exp: -1 })],
    ['exp fractional', s.sign({ exp: now + 60.5 })],
    ['exp null', s.sign({ exp: null })],
    ['iat future', s.sign({ iat: now + 3600 })],
    ['iat a string', s.sign({ iat: 'now' })],
    ['nbf future', s.sign({ nbf: now + 3600 })],
    ['nbf an object', s.sign({ nbf: {} })],
    ['jti missing', s.sign({ jti: undefined })],
    ['jti empty', s.sign({ jti: '' })],
    ['jti a number', s.sign({ jti: 7 })],
    ['jti an object', s.sign({ jti: { a: 1 } })],
    ['jti 100 KB', s.sign({ jti: 'j'.repeat(100_000) })],
    ['__proto__ claim', s.sign({ ['__proto__']: { admin: true } })],
    ['1 MB token', `${h}.${b64('x'.repeat(1 << 20))}.${sig}`],
  ];
  return Promise.all(traps.map(async ([name, token]) => [name, await token] as [string, string]));
}

/** Traps that are valid assertions after all: a fractional NumericDate, an extra claim named __proto__. */
export const ODD_BUT_VALID = ['exp fractional', '__proto__ claim'];

/** A string that looks like a JWT: random JSON or bytes in each of its parts. */
export const arbJwtShaped: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(arbJsonValue, fc.dictionary(fc.constantFrom('alg', 'kid', 'typ', 'crit', 'jwk', 'b64'), arbJsonValue)),
    fc.oneof(
      arbJsonValue,
      fc.dictionary(fc.constantFrom('iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', '__proto__'), arbJsonValue),
    ),
    fc.oneof(fc.constant(''), fc.base64String({ maxLength: 120 }), fc.string({ maxLength: 40 })),
  )
  .map(([header, payload, signature]) => compact(header, payload, signature.replace(/=+$/, '')));

/** A valid token with one change: a character replaced, inserted or removed, or the token cut. */
export function arbMutation(valid: string): fc.Arbitrary<string> {
  const alphabet = fc.constantFrom(...'AQgw_-.=+/ \u0000\u00e9'.split(''), ...'abcdefXYZ0189'.split(''));
  return fc.oneof(
    fc.tuple(fc.nat({ max: valid.length - 1 }), alphabet).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
    fc.tuple(fc.nat({ max: valid.length }), alphabet).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i)),
    fc.nat({ max: valid.length - 1 }).map((i) => valid.slice(0, i) + valid.slice(i + 1)),
    fc.nat({ max: valid.length - 1 }).map((i) => valid.slice(0, i)),
  );
}

/** Claims to sign with the real key: each valid claim kept, dropped or replaced by an odd value. */
export const arbClaimChanges: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  fc.constantFrom('iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti'),
  fc.oneof(
    arbJsonValue,
    fc.constant(undefined),
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.integer({ min: -7200, max: 7200 }).map((d) => Math.floor(Date.now() / 1000) + d),
  ),
  { maxKeys: 3 },
);

/**
 * The assertion rules as this test reads them: what an accepted token's claims must be.
 * Returns why they are not, or undefined when they are.
 */
export function claimsAreValid(token: string, clientId: string, audiences: string[]): string | undefined {
  let claims: Record<string, unknown>;
  let header: Record<string, unknown>;
  try {
    const [h, p] = token.split('.');
    header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
  } catch {
    return 'not a readable JWT';
  }
  const now = Date.now() / 1000;
  if (!['ES256'].includes(header.alg as string)) return `alg ${String(header.alg)}`;
  if (claims.iss !== clientId || claims.sub !== clientId) return 'iss or sub is not the client_id';
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => audiences.includes(a as string))) return 'aud is not the AS';
  if (typeof claims.exp !== 'number' || claims.exp <= now - 60) return 'exp missing or past';
  if (typeof claims.jti !== 'string' || claims.jti === '') return 'no jti';
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > now + 60)) return 'iat';
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + 60)) return 'nbf';
  const issued = typeof claims.iat === 'number' ? claims.iat : now;
  if (claims.exp - issued > 300 + 60) return 'lives too long';
  return undefined;
}
