import type { CacheLifetime } from '../cache/cache-lifetime';
import type { MetadataDocument, PublicJwk } from '../document/metadata-document';
import type { Finding } from '../findings';

/** HTTP validators kept with a cached copy for conditional revalidation. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/**
 * Every fetch of a client_id ends in exactly one of these (the fetcher's contract):
 * - `ok`: a validated document and how long it may be served;
 * - `not_modified`: a 304 to a conditional request; extends the already validated copy;
 * - `invalid`: the origin answered, but not with a valid document (rules failed, not JSON,
 *   an unexpected status such as 403 or 201);
 * - `gone`: 404 or 410;
 * - `transient`: timeout, DNS, connection or TLS error, 5xx, 429: try again later, keep the last good copy;
 * - `blocked`: the URL or an address it resolves to is not allowed (SSRF);
 * - `too_large`, `bad_content_type`, `redirect`: the origin answered in a way we refuse.
 */
export type FetchOutcome =
  | {
      outcome: 'ok';
      document: MetadataDocument;
      warnings: Finding[];
      lifetime: CacheLifetime;
      validators: Validators;
      /** sha256 of the document body (after any Content-Encoding is removed), for change detection. */
      rawHash: string;
      bytes: number;
    }
  | { outcome: 'not_modified'; lifetime: CacheLifetime; validators: Validators; warnings: Finding[] }
  | {
      outcome: 'invalid';
      errors: Finding[];
      warnings: Finding[];
      status: number;
      /** The refused body as text (at most the size cap), for operators: never a document (SPEC-NOTES 15). */
      body?: string;
    }
  | { outcome: 'gone'; errors: Finding[]; status: 404 | 410 }
  | { outcome: 'transient'; errors: Finding[]; status?: number; retryAfterSeconds?: number }
  | { outcome: 'blocked'; errors: Finding[] }
  | { outcome: 'too_large'; errors: Finding[] }
  | { outcome: 'bad_content_type'; errors: Finding[] }
  | { outcome: 'redirect'; errors: Finding[]; status: number; location?: string };

export type FetchOutcomeKind = FetchOutcome['outcome'];

/**
 * Every fetch of a client's `jwks_uri` ends in one of these: a validated key set, a 304 for the
 * one held, a transient failure (the held set stays), or a refusal (the set is unusable: not a
 * valid JWK Set, 404, too large, blocked, a redirect…).
 */
export type KeySetOutcome =
  | {
      outcome: 'ok';
      jwks: { keys: PublicJwk[] };
      warnings: Finding[];
      lifetime: CacheLifetime;
      validators: Validators;
      /** sha256 of the validated keys, for change detection. */
      rawHash: string;
    }
  | { outcome: 'not_modified'; lifetime: CacheLifetime; validators: Validators }
  | { outcome: 'transient'; errors: Finding[] }
  | { outcome: 'refused'; errors: Finding[] };
