import type { RuleCode } from '../findings';
import type { AssertionContext } from './assertion-rules';

/** A 2048-bit RSA public key and a P-256 key, as a client would publish them (not secret: no private part). */
export const RSA_2048 = {
  kty: 'RSA',
  n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw',
  e: 'AQAB',
};
export const EC_P256 = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};

/** One row per key-set rule, for a set served at jwks_uri. */
export interface KeySetCase {
  rule: string;
  name: string;
  set: unknown;
  errors: RuleCode[];
  warnings?: RuleCode[];
  /** How many keys remain usable. */
  usable: number;
}

export const KEY_SET_CASES: KeySetCase[] = [
  { rule: '26', name: 'an RSA and an EC key', set: { keys: [RSA_2048, EC_P256] }, errors: [], usable: 2 },
  { rule: '11', name: 'a bare array', set: [RSA_2048], errors: ['keys.malformed'], usable: 0 },
  { rule: '11', name: 'keys is not an array', set: { keys: RSA_2048 }, errors: ['keys.malformed'], usable: 0 },
  {
    rule: '11',
    name: 'a key without kty',
    set: { keys: [{ n: 'x' }, EC_P256] },
    errors: ['keys.malformed'],
    usable: 1,
  },
  {
    rule: '11',
    name: 'a private RSA key',
    set: { keys: [{ ...RSA_2048, d: 'c2VjcmV0' }] },
    errors: ['keys.private_key'],
    usable: 0,
  },
  {
    rule: '11',
    name: 'a symmetric key',
    set: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
    errors: ['keys.private_key'],
    usable: 0,
  },
  {
    rule: '26',
    name: 'two keys with one kid',
    set: {
      keys: [
        { ...RSA_2048, kid: 'a' },
        { ...EC_P256, kid: 'a' },
      ],
    },
    errors: ['keys.duplicate_kid'],
    usable: 2,
  },
  {
    rule: '26',
    name: 'an RSA key of 1024 bits beside a good one',
    set: { keys: [{ ...RSA_2048, n: RSA_2048.n.slice(0, 171) }, EC_P256] },
    errors: [],
    warnings: ['keys.unsupported_key'],
    usable: 1,
  },
  {
    rule: '26',
    name: 'a key with an HMAC alg',
    set: { keys: [{ ...RSA_2048, alg: 'HS256' }] },
    errors: ['keys.empty'],
    warnings: ['keys.unsupported_key'],
    usable: 0,
  },
  {
    rule: '26',
    name: 'a key whose alg does not fit its type',
    set: { keys: [{ ...EC_P256, alg: 'RS256' }] },
    errors: ['keys.empty'],
    warnings: ['keys.unsupported_key'],
    usable: 0,
  },
  {
    rule: '26',
    name: 'an encryption key',
    set: { keys: [{ ...RSA_2048, use: 'enc' }] },
    errors: ['keys.empty'],
    warnings: ['keys.unsupported_key'],
    usable: 0,
  },
  { rule: '26', name: 'an empty set', set: { keys: [] }, errors: ['keys.empty'], usable: 0 },
];

const NOW = Date.UTC(2026, 11, 6, 12);
const S = NOW / 1000;
export const ASSERTION_CONTEXT: AssertionContext = {
  clientId: 'https://app.example.com/client.json',
  audiences: ['https://as.example', 'https://as.example/token'],
  now: NOW,
  maxLifetimeSeconds: 300,
  requireTyp: false,
};
export const GOOD_CLAIMS = {
  iss: ASSERTION_CONTEXT.clientId,
  sub: ASSERTION_CONTEXT.clientId,
  aud: 'https://as.example',
  iat: S - 10,
  exp: S + 120,
  jti: 'a1b2c3',
};

/** One row per assertion rule of the header and the claims (signature and replay are checked with keys and Redis). */
export interface AssertionCase {
  rule: string;
  name: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  context?: Partial<AssertionContext>;
  /** Undefined: accepted. */
  refusal?: RuleCode;
}

export const ASSERTION_CASES: AssertionCase[] = [
  { rule: '26', name: 'a good RS256 assertion' },
  { rule: '26', name: 'aud as an array naming the token endpoint', claims: { aud: ['x', 'https://as.example/token'] } },
  { rule: '26', name: 'typ oauth-client-auth+jwt', header: { typ: 'oauth-client-auth+jwt' } },
  { rule: '26', name: 'typ JWT', header: { typ: 'JWT' } },
  { rule: '26', name: 'alg none', header: { alg: 'none' }, refusal: 'client_auth.alg_not_allowed' },
  { rule: '26', name: 'alg HS256', header: { alg: 'HS256' }, refusal: 'client_auth.alg_not_allowed' },
  { rule: '26', name: 'no alg', header: { alg: undefined }, refusal: 'client_auth.alg_not_allowed' },
  {
    rule: 'RFC 7591 §2',
    name: 'another alg than the document declares',
    header: { alg: 'ES256' },
    context: { documentAlg: 'RS256' },
    refusal: 'client_auth.alg_not_allowed',
  },
  { rule: '26', name: 'typ of an access token', header: { typ: 'at+jwt' }, refusal: 'client_auth.typ_not_allowed' },
  {
    rule: '26',
    name: 'no typ where the tenant requires it',
    context: { requireTyp: true },
    refusal: 'client_auth.typ_not_allowed',
  },
  {
    rule: '26',
    name: 'typ JWT where the tenant requires the explicit type',
    header: { typ: 'JWT' },
    context: { requireTyp: true },
    refusal: 'client_auth.typ_not_allowed',
  },
  {
    rule: '26',
    name: 'iss is another client',
    claims: { iss: 'https://evil.example/c.json' },
    refusal: 'client_auth.iss_mismatch',
  },
  {
    rule: '26',
    name: 'sub is another client',
    claims: { sub: 'https://evil.example/c.json' },
    refusal: 'client_auth.sub_mismatch',
  },
  {
    rule: '26',
    name: 'aud of another server',
    claims: { aud: 'https://other.example' },
    refusal: 'client_auth.aud_mismatch',
  },
  { rule: '26', name: 'no aud', claims: { aud: undefined }, refusal: 'client_auth.aud_mismatch' },
  { rule: 'RFC 7523 §3', name: 'no exp', claims: { exp: undefined }, refusal: 'client_auth.exp_missing' },
  { rule: 'RFC 7523 §3', name: 'exp as a string', claims: { exp: String(S + 60) }, refusal: 'client_auth.malformed' },
  {
    rule: 'RFC 7523 §3',
    name: 'expired beyond the skew',
    claims: { iat: S - 200, exp: S - 61 },
    refusal: 'client_auth.expired',
  },
  { rule: 'RFC 7523 §3', name: 'expired within the skew', claims: { iat: S - 200, exp: S - 30 } },
  {
    rule: '26',
    name: 'lives longer than the tenant allows',
    claims: { iat: S, exp: S + 301 },
    refusal: 'client_auth.lifetime_too_long',
  },
  {
    rule: '26',
    name: 'no iat and exp far away',
    claims: { iat: undefined, exp: S + 3600 },
    refusal: 'client_auth.lifetime_too_long',
  },
  {
    rule: 'RFC 7523 §3',
    name: 'iat in the future',
    claims: { iat: S + 120, exp: S + 200 },
    refusal: 'client_auth.not_yet_valid',
  },
  { rule: 'RFC 7523 §3', name: 'nbf in the future', claims: { nbf: S + 120 }, refusal: 'client_auth.not_yet_valid' },
  { rule: 'RFC 7523 §3', name: 'iat within the skew', claims: { iat: S + 30, exp: S + 200 } },
  { rule: '26', name: 'no jti', claims: { jti: undefined }, refusal: 'client_auth.jti_missing' },
  { rule: '26', name: 'an empty jti', claims: { jti: '' }, refusal: 'client_auth.jti_missing' },
];
