import type { PublicJwk } from '../document/metadata-document';
import { Finding, FindingList, quote } from '../findings';

/**
 * Algorithms a client assertion may be signed with (RFC 8725 §3.1, §3.2): asymmetric only;
 * never `none`, never HS* (a public key's bytes used as an HMAC secret would verify anything).
 */
export const ASSERTION_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type AssertionAlg = (typeof ASSERTION_ALGS)[number];

/** Members only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const EC_CURVES: Record<string, { bytes: number; alg: AssertionAlg }> = {
  'P-256': { bytes: 32, alg: 'ES256' },
  'P-384': { bytes: 48, alg: 'ES384' },
  'P-521': { bytes: 66, alg: 'ES512' },
};
const MIN_RSA_BITS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The algorithms a key can verify: by its type and curve, narrowed by its `alg` when it has one. */
export function algorithmsOf(key: PublicJwk): AssertionAlg[] {
  let algs: AssertionAlg[] = [];
  if (key.kty === 'RSA') algs = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  else if (key.kty === 'EC' && typeof key.crv === 'string' && EC_CURVES[key.crv]) algs = [EC_CURVES[key.crv]!.alg];
  else if (key.kty === 'OKP' && key.crv === 'Ed25519') algs = ['EdDSA', 'Ed25519'];
  return typeof key.alg === 'string' ? algs.filter((a) => a === key.alg) : algs;
}

export interface JwkSetCheck {
  /** True when the set can verify assertions: well formed, no private key, unique kids, a usable key. */
  valid: boolean;
  /** The keys an assertion may be verified with (the others are reported and ignored). */
  keys: PublicJwk[];
  errors: Finding[];
  warnings: Finding[];
}

/**
 * A JWK Set as a client publishes it, inline (`jwks`) or at `jwks_uri`: public keys only, no
 * private members, `kid`s unique, only key types, curves and algorithms an assertion may use.
 * Keys that cannot sign an assertion here are ignored with a warning; the set is invalid when
 * a key is private, two share a kid, or none is left.
 */
export function checkJwkSet(input: unknown, source: 'jwks' | 'jwks_uri'): JwkSetCheck {
  const f = new FindingList();
  const where = source === 'jwks' ? 'jwks' : 'the key set at jwks_uri';
  const keys = (input as { keys?: unknown } | null)?.keys;
  if (input === null || typeof input !== 'object' || Array.isArray(input) || !Array.isArray(keys)) {
    f.add(
      source === 'jwks' ? 'document.jwks_malformed' : 'keys.malformed',
      `${where} must be a JWK Set: an object {"keys": [...]} whose members each have "kty".`,
      source === 'jwks' ? 'jwks' : undefined,
    );
    return { ...f.result(), keys: [] };
  }
  const usable: PublicJwk[] = [];
  const kids = new Map<string, number>();
  keys.forEach((raw: unknown, i) => {
    const field = `${source === 'jwks' ? 'jwks' : 'keys'}.keys[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || typeof (raw as PublicJwk).kty !== 'string') {
      f.add(
        source === 'jwks' ? 'document.jwks_malformed' : 'keys.malformed',
        `${field} is not a JWK (an object with "kty").`,
        field,
      );
      return;
    }
    const key = raw as PublicJwk;
    const secret = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
    if (key.kty === 'oct' || secret.length > 0) {
      f.add(
        source === 'jwks' ? 'document.jwks_private_key' : 'keys.private_key',
        `${field} is ${key.kty === 'oct' ? 'a symmetric (kty "oct") key' : `a private key (it has ${secret.map((m) => `"${m}"`).join(', ')})`}; publish only public keys, and rotate this key now: it has been exposed.`,
        field,
      );
      return;
    }
    if (typeof key.kid === 'string') kids.set(key.kid, (kids.get(key.kid) ?? 0) + 1);
    const problem = unusable(key);
    if (problem) {
      f.add('keys.unsupported_key', `${field} ${problem}; it is ignored.`, field);
      return;
    }
    usable.push(key);
  });
  for (const [kid, count] of kids) {
    if (count > 1)
      f.add('keys.duplicate_kid', `${count} keys of ${where} have the kid ${quote(kid)}; every kid must be unique.`);
  }
  if (usable.length === 0 && f.errors.length === 0) {
    f.add('keys.empty', `${where} has no key a client assertion could be verified with.`);
  }
  return { ...f.result(), keys: usable };
}

/** Why a public key cannot verify an assertion here, or undefined when it can. */
function unusable(key: PublicJwk): string | undefined {
  if (key.use !== undefined && key.use !== 'sig') return `has "use": ${quote(JSON.stringify(key.use))}, not "sig"`;
  if (Array.isArray(key.key_ops) && !key.key_ops.includes('verify')) return 'has "key_ops" without "verify"';
  if (key.alg !== undefined && !(ASSERTION_ALGS as readonly unknown[]).includes(key.alg))
    return `has "alg": ${quote(JSON.stringify(key.alg))}, which is not allowed for client assertions`;
  switch (key.kty) {
    case 'RSA': {
      if (typeof key.n !== 'string' || !BASE64URL.test(key.n) || typeof key.e !== 'string' || !BASE64URL.test(key.e))
        return 'is an RSA key without a base64url "n" and "e"';
      const bits = Buffer.from(key.n, 'base64url').length * 8;
      if (bits < MIN_RSA_BITS) return `is an RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required`;
      break;
    }
    case 'EC': {
      const curve = typeof key.crv === 'string' ? EC_CURVES[key.crv] : undefined;
      if (!curve) return `is an EC key on ${quote(String(key.crv))}; only P-256, P-384 and P-521 are accepted`;
      for (const c of ['x', 'y'] as const) {
        const v = key[c];
        if (typeof v !== 'string' || !BASE64URL.test(v) || Buffer.from(v, 'base64url').length !== curve.bytes)
          return `is an EC key whose "${c}" is not a ${curve.bytes}-byte base64url coordinate`;
      }
      break;
    }
    case 'OKP':
      if (key.crv !== 'Ed25519') return `is an OKP key on ${quote(String(key.crv))}; only Ed25519 is accepted`;
      if (typeof key.x !== 'string' || !BASE64URL.test(key.x) || Buffer.from(key.x, 'base64url').length !== 32)
        return 'is an Ed25519 key whose "x" is not a 32-byte base64url value';
      break;
    default:
      return `has kty ${quote(key.kty)}; only RSA, EC and OKP keys are accepted`;
  }
  if (algorithmsOf(key).length === 0) return `has "alg": ${quote(String(key.alg))}, which does not fit its key type`;
  return undefined;
}
