import { z } from 'zod';
import type { MetadataDocument } from '../document/metadata-document';
import type { Finding, RuleCode } from '../findings';

/**
 * A rule code as stored by another process. Not checked against this build's catalogue: during
 * a rolling upgrade a newer fetcher may write a code an older gateway does not know yet, and the
 * entry must still be read (the code is shown, never acted on).
 */
export const StoredRuleCodeSchema = z.string().min(1).max(100).meta({
  description: 'A rule code from the catalogue (docs/RULES.md), e.g. redirect_uri.not_registered',
}) as unknown as z.ZodType<RuleCode>;
const ruleCode = StoredRuleCodeSchema;

export const FindingSchema: z.ZodType<Finding> = z.object({
  code: ruleCode,
  message: z.string(),
  field: z.string().optional(),
});

const PublicJwkSchema = z.looseObject({ kty: z.string() });

/** The normalized document as the fetcher stored it (validateMetadataDocument's output). */
export const MetadataDocumentSchema: z.ZodType<MetadataDocument> = z.object({
  client_id: z.string(),
  redirect_uris: z.array(z.string()),
  token_endpoint_auth_method: z.string(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  grant_types: z.array(z.string()),
  response_types: z.array(z.string()),
  application_type: z.enum(['web', 'native']),
  client_name: z.string().optional(),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
  tos_uri: z.string().optional(),
  policy_uri: z.string().optional(),
  scope: z.string().optional(),
  jwks_uri: z.string().optional(),
  jwks: z.object({ keys: z.array(PublicJwkSchema) }).optional(),
  token_endpoint_auth_signing_alg: z.string().optional(),
  contacts: z.array(z.string()).optional(),
  software_id: z.string().optional(),
  software_version: z.string().optional(),
  dpop_bound_access_tokens: z.boolean().optional(),
});

export const CLIENT_STATUSES = ['valid', 'invalid', 'gone'] as const;
export type ClientStatus = (typeof CLIENT_STATUSES)[number];

/**
 * What the shared cache holds per client_id, written by the fetcher and read by the gateway.
 * `invalid` and `gone` entries carry reasons, never a document (SPEC-NOTES 15); a transient
 * failure never changes `status`, it only records `last_error`. Times are ms since the epoch.
 */
export const CacheEntrySchema = z.object({
  v: z.literal(1),
  client_id: z.string(),
  status: z.enum(CLIENT_STATUSES),
  /** The normalized validated document; only when `status` is `valid`. */
  document: MetadataDocumentSchema.optional(),
  /** Warning codes of the document rules (consent warnings come from these). */
  warnings: z.array(ruleCode).optional(),
  /** Why the client is invalid or gone. */
  errors: z.array(FindingSchema).optional(),
  /** sha256 of the document body as served. */
  raw_hash: z.string().optional(),
  fetched_at: z.number(),
  /** When this deployment first fetched the client (for the new-client warning, SPEC-NOTES 22). */
  first_seen_at: z.number().optional(),
  /** After this, serve from cache and fetch again in the background. */
  refresh_at: z.number(),
  /** After this, the copy is stale: serve it only inside the stale-if-error window. */
  expires_at: z.number(),
  etag: z.string().optional(),
  last_modified: z.string().optional(),
  /** The lifetime (s) the document's last 200 was given; a 304 without its own keeps it (RFC 9111 §4.3.4). */
  ttl_seconds: z.number().optional(),
  /** The prefetched logo, stored under the SHA-256 of its bytes; fetched again once a document lifetime old. */
  logo: z.object({ sha256: z.string(), content_type: z.string(), fetched_at: z.number().optional() }).optional(),
  /**
   * The key set at the document's `jwks_uri` (SPEC-NOTES 26, 27): `valid` (usable), `invalid` (the
   * origin served something unusable) or `unavailable` (never fetched successfully yet). Its
   * lifetime bounds the entry's.
   */
  keys: z
    .object({
      jwks_uri: z.string(),
      status: z.enum(['valid', 'invalid', 'unavailable']),
      jwks: z.object({ keys: z.array(PublicJwkSchema) }).optional(),
      errors: z.array(FindingSchema).optional(),
      raw_hash: z.string().optional(),
      fetched_at: z.number(),
      etag: z.string().optional(),
      last_modified: z.string().optional(),
    })
    .optional(),
  /**
   * A valid client whose document just answered 404/410 or failed validation: still served
   * until a second fetch after the confirmation delay says the same (then `status` changes).
   */
  suspect: z.object({ since: z.number(), outcome: z.string(), errors: z.array(FindingSchema) }).optional(),
  /** The latest transient failure, kept for operators; never a reason to stop serving. */
  last_error: z.object({ at: z.number(), code: ruleCode, message: z.string() }).optional(),
});

export type CacheEntry = z.output<typeof CacheEntrySchema>;

/** A stored entry, or undefined when there is none or it is not an entry of this version. */
export function parseCacheEntry(json: string | null | undefined): CacheEntry | undefined {
  if (json === null || json === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = CacheEntrySchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
