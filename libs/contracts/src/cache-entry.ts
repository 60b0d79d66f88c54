import type { Finding, MetadataDocument, RuleCode } from '@cimd/core';

/**
 * What Redis holds per client_id (DESIGN.md "Cache entry"), written by the fetcher, read by
 * the gateway. `invalid` and `gone` entries carry reasons, never a document (SPEC-NOTES 15);
 * a transient failure never changes `status`, it only records `last_error`.
 */
export interface CacheEntry {
  v: 1;
  client_id: string;
  status: 'valid' | 'invalid' | 'gone';
  /** The normalized validated document; only when `status` is `valid`. */
  document?: MetadataDocument;
  /** Warning codes of the document rules (consent warnings come from these). */
  warnings?: RuleCode[];
  /** Why the client is invalid or gone. */
  errors?: Finding[];
  /** sha256 of the document body as served. */
  raw_hash?: string;
  fetched_at: number;
  /** When this deployment first fetched the client (for the new-client warning, SPEC-NOTES 22). */
  first_seen_at?: number;
  /** After this, serve from cache and fetch again in the background. */
  refresh_at: number;
  /** After this, the copy is stale: serve it only inside the stale-if-error window. */
  expires_at: number;
  etag?: string;
  last_modified?: string;
  /** The prefetched logo (RedisKeys.logo(sha256)). */
  logo?: { sha256: string; content_type: string };
  /**
   * A valid client whose document just answered 404/410 or failed validation: still served
   * until a second fetch after the confirmation delay says the same (then `status` changes).
   */
  suspect?: { since: number; outcome: string; errors: Finding[] };
  /** The latest transient failure, kept for operators; never a reason to stop serving. */
  last_error?: { at: number; code: RuleCode; message: string };
}

export function parseCacheEntry(json: string | null): CacheEntry | undefined {
  if (json === null) return undefined;
  try {
    const entry = JSON.parse(json) as CacheEntry;
    return entry && entry.v === 1 && typeof entry.client_id === 'string' ? entry : undefined;
  } catch {
    return undefined;
  }
}
