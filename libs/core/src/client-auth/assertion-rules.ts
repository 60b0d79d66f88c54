import { Finding, quote, RuleCode } from '../findings';
import { ASSERTION_ALGS } from './jwk-set';

/** RFC 7523 §2.2. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The explicit type the working group recommends for client assertions (RFC 8725 §3.11). */
export const CLIENT_AUTH_JWT_TYP = 'oauth-client-auth+jwt';
/** Clock skew allowed on `exp`, `iat` and `nbf`. */
export const ASSERTION_SKEW_SECONDS = 60;

/** What an assertion is checked against. */
export interface AssertionContext {
  clientId: string;
  /** The tenant's issuer and token endpoint: `aud` must name one of them. */
  audiences: readonly string[];
  /** ms since the epoch. */
  now: number;
  maxLifetimeSeconds: number;
  requireTyp: boolean;
  /** The document's `token_endpoint_auth_signing_alg`, when it declares one (RFC 7591 §2). */
  documentAlg?: string;
}

function refusal(code: RuleCode, message: string): Finding {
  return { code, message };
}

/** The protected header: an allowed algorithm (and the document's, if it names one), and an accepted `typ`. */
export function checkAssertionHeader(header: Record<string, unknown>, ctx: AssertionContext): Finding | undefined {
  const alg = header.alg;
  if (typeof alg !== 'string' || !(ASSERTION_ALGS as readonly string[]).includes(alg)) {
    return refusal(
      'client_auth.alg_not_allowed',
      `The assertion is signed with ${typeof alg === 'string' ? quote(alg) : 'no algorithm'}; client assertions must use one of ${ASSERTION_ALGS.join(', ')}.`,
    );
  }
  if (ctx.documentAlg !== undefined && alg !== ctx.documentAlg) {
    return refusal(
      'client_auth.alg_not_allowed',
      `The assertion is signed with ${quote(alg)}, but the client's metadata document declares token_endpoint_auth_signing_alg ${quote(ctx.documentAlg)}.`,
    );
  }
  const typ = header.typ;
  const explicit = typeof typ === 'string' && typ.toLowerCase() === CLIENT_AUTH_JWT_TYP;
  const legacy = typ === undefined || (typeof typ === 'string' && typ.toUpperCase() === 'JWT');
  if (!explicit && (ctx.requireTyp || !legacy)) {
    return refusal(
      'client_auth.typ_not_allowed',
      `The assertion's typ is ${describeAssertionMember(typ)}; ${ctx.requireTyp ? 'this authorization server requires' : 'client assertions use'} "${CLIENT_AUTH_JWT_TYP}"${ctx.requireTyp ? '' : ' (or "JWT", or no typ)'}.`,
    );
  }
  return undefined;
}

/** The claims (RFC 7523 §3): iss and sub are the client_id, aud names the tenant, a short life, a jti. */
export function checkAssertionClaims(claims: unknown, ctx: AssertionContext): Finding | undefined {
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    return refusal('client_auth.malformed', 'The assertion’s payload is not a JSON object of claims.');
  }
  const c = claims as Record<string, unknown>;
  if (c.iss !== ctx.clientId)
    return refusal(
      'client_auth.iss_mismatch',
      `The assertion's iss is ${describeAssertionMember(c.iss)}, not the client_id ${quote(ctx.clientId)}.`,
    );
  if (c.sub !== ctx.clientId)
    return refusal(
      'client_auth.sub_mismatch',
      `The assertion's sub is ${describeAssertionMember(c.sub)}, not the client_id ${quote(ctx.clientId)}.`,
    );
  const aud = typeof c.aud === 'string' ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  if (!aud.some((a) => typeof a === 'string' && ctx.audiences.includes(a))) {
    return refusal(
      'client_auth.aud_mismatch',
      `The assertion's aud is ${describeAssertionMember(c.aud)}; it must name this authorization server: ${ctx.audiences.map((a) => quote(a)).join(' or ')}.`,
    );
  }
  const now = ctx.now / 1000;
  const skew = ASSERTION_SKEW_SECONDS;
  if (c.exp === undefined) return refusal('client_auth.exp_missing', 'The assertion has no exp claim.');
  if (!isNumericDate(c.exp)) return refusal('client_auth.malformed', 'The assertion’s exp is not a NumericDate.');
  if (c.exp <= now - skew) return refusal('client_auth.expired', `The assertion expired at ${isoOf(c.exp)}.`);
  for (const claim of ['iat', 'nbf'] as const) {
    const value = c[claim];
    if (value === undefined) continue;
    if (!isNumericDate(value))
      return refusal('client_auth.malformed', `The assertion’s ${claim} is not a NumericDate.`);
    if (value > now + skew)
      return refusal('client_auth.not_yet_valid', `The assertion's ${claim} is in the future (${isoOf(value)}).`);
  }
  const issued = isNumericDate(c.iat) ? c.iat : now;
  if (c.exp - issued > ctx.maxLifetimeSeconds + (c.iat === undefined ? skew : 0)) {
    return refusal(
      'client_auth.lifetime_too_long',
      `The assertion is valid for ${Math.round(c.exp - issued)} s; this authorization server accepts at most ${ctx.maxLifetimeSeconds} s.`,
    );
  }
  if (typeof c.jti !== 'string' || c.jti === '')
    return refusal('client_auth.jti_missing', 'The assertion has no jti claim, so it could be replayed.');
  return undefined;
}

function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isoOf(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString();
}

/** A header member or claim for a message: quoted, short, invisible characters escaped, whatever its JSON type. */
export function describeAssertionMember(v: unknown): string {
  if (v === undefined) return 'absent';
  return typeof v === 'string' ? quote(v) : quote(JSON.stringify(v) ?? 'a value', 80);
}
