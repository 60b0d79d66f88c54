import {
  AssertionContext,
  ASSERTION_ALGS,
  checkAssertionClaims,
  checkAssertionHeader,
  describeAssertionMember,
  Finding,
  PublicJwk,
} from '@cimd/core';
import { Injectable } from '@nestjs/common';
import {
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  type CompactVerifyGetKey,
} from 'jose';
import { LRUCache } from 'lru-cache';

/** A verified assertion's claims, or why it was refused (`unknownKey`: the held key set may be outdated). */
export type Verification =
  { ok: true; claims: Record<string, unknown> } | { ok: false; refusal: Finding; unknownKey?: boolean };

const MAX_ASSERTION_LENGTH = 16 * 1024;

const VERIFY_OPTIONS = { algorithms: [...ASSERTION_ALGS] };
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Thrown from the key lookup to stop a verification whose header the rules refuse. */
const HEADER_REFUSED = new Error('header refused');

/**
 * Checks a client assertion (RFC 7523 §2.2) against a client's public keys with `jose`: the
 * header's algorithm and type (allow-list: no `none`, no HS*), the signature with the key it
 * names, then the claims (checkAssertionClaims). Key sets are imported once per content.
 */
@Injectable()
export class AssertionVerifier {
  // Keyed by the key set's content: a rotated set is imported anew, an unchanged one never again.
  private readonly keySets = new LRUCache<string, CompactVerifyGetKey>({ max: 10_000 });

  async verify(
    assertion: string,
    keys: { id: string; keys: PublicJwk[] },
    ctx: AssertionContext,
  ): Promise<Verification> {
    if (assertion.length > MAX_ASSERTION_LENGTH || !/^[\w-]+\.[\w-]*\.[\w-]*$/.test(assertion))
      return refused(
        'client_auth.malformed',
        'The client assertion is not a signed JWT in compact form (header.payload.signature).',
      );
    // The header is checked as jose hands it to the key lookup: before the signature, parsed once.
    let checked: { header: Record<string, unknown>; refusal: Finding | undefined } | undefined;
    const keySet = this.keySet(keys);
    const getKey: CompactVerifyGetKey = (header, token) => {
      const refusal = checkAssertionHeader(header, ctx);
      checked = { header, refusal };
      if (refusal) throw HEADER_REFUSED;
      return keySet(header, token);
    };
    let payload: Uint8Array | undefined;
    try {
      payload = (await compactVerify(assertion, getKey, VERIFY_OPTIONS)).payload;
    } catch (e) {
      if (checked?.refusal) return { ok: false, refusal: checked.refusal };
      if (e instanceof joseErrors.JWKSMultipleMatchingKeys) payload = await this.tryEach(assertion, e);
      if (!payload) {
        // Refused before the key lookup (jose's own checks): the header's refusal comes first, as the rules say.
        let header = checked?.header;
        if (!header) {
          try {
            header = decodeProtectedHeader(assertion);
          } catch {
            return refused('client_auth.malformed', 'The client assertion’s header is not base64url-encoded JSON.');
          }
          const headerRefusal = checkAssertionHeader(header, ctx);
          if (headerRefusal) return { ok: false, refusal: headerRefusal };
        }
        return this.refusalOf(e, header);
      }
    }
    let claims: unknown;
    try {
      claims = JSON.parse(UTF8.decode(payload));
    } catch {
      return refused('client_auth.malformed', 'The client assertion’s payload is not JSON.');
    }
    const claimsRefusal = checkAssertionClaims(claims, ctx);
    if (claimsRefusal) return { ok: false, refusal: claimsRefusal };
    return { ok: true, claims: claims as Record<string, unknown> };
  }

  private keySet(keys: { id: string; keys: PublicJwk[] }): CompactVerifyGetKey {
    let getKey = this.keySets.get(keys.id);
    if (!getKey) {
      getKey = createLocalJWKSet({ keys: keys.keys });
      this.keySets.set(keys.id, getKey);
    }
    return getKey;
  }

  /** No kid and several keys fit: the one whose signature verifies. */
  private async tryEach(
    assertion: string,
    candidates: joseErrors.JWKSMultipleMatchingKeys,
  ): Promise<Uint8Array | undefined> {
    for await (const key of candidates) {
      try {
        return (await compactVerify(assertion, key, VERIFY_OPTIONS)).payload;
      } catch {
        // the next one
      }
    }
    return undefined;
  }

  private refusalOf(e: unknown, header: Record<string, unknown>): Verification {
    if (e instanceof joseErrors.JWKSNoMatchingKey)
      return {
        ...refused(
          'client_auth.unknown_key',
          `No key of the client's key set fits the assertion (kid ${describeAssertionMember(header.kid)}, alg ${describeAssertionMember(header.alg)}).`,
        ),
        unknownKey: true,
      };
    if (e instanceof joseErrors.JWSSignatureVerificationFailed || e instanceof joseErrors.JWKSMultipleMatchingKeys)
      return refused(
        'client_auth.bad_signature',
        'The client assertion’s signature does not verify with the key it names.',
      );
    if (e instanceof joseErrors.JOSEAlgNotAllowed)
      return refused(
        'client_auth.alg_not_allowed',
        `The client assertion is signed with ${describeAssertionMember(header.alg)}, which is not allowed.`,
      );
    return refused('client_auth.malformed', 'The client assertion is not a valid signed JWT.');
  }
}

function refused(code: Finding['code'], message: string): { ok: false; refusal: Finding } {
  return { ok: false, refusal: { code, message } };
}
