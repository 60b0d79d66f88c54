import { CacheBounds, checkClientIdUrl, checkJwkSet, KeySetOutcome, Validators } from '@cimd/core';
import { createHash } from 'node:crypto';
import { fetchJson } from './fetch-json';
import { SafeFetcher } from './safe-fetcher';

/** Largest key set fetched by default: a few RSA keys fit in 8 KiB; 32 KiB leaves room for rotation. */
export const DEFAULT_MAX_JWKS_BYTES = 32 * 1024;

export interface FetchKeySetOptions {
  validators?: Validators;
  now?: number;
  cacheBounds?: Partial<CacheBounds>;
  maxBytes?: number;
}

/**
 * Fetch a client's `jwks_uri` through the same guard as its document (SPEC-NOTES 27): the
 * client_id URL rules, the special-use address block at connect time, no redirects, 200 only,
 * a size cap, the cache lifetime rules and bounds, then the key set rules (checkJwkSet).
 */
export async function fetchKeySet(
  fetcher: SafeFetcher,
  jwksUri: string,
  options: FetchKeySetOptions = {},
): Promise<KeySetOutcome> {
  const urlCheck = checkClientIdUrl(jwksUri);
  if (!urlCheck.valid) {
    return {
      outcome: 'refused',
      errors: urlCheck.errors.map((e) => ({ ...e, message: `jwks_uri: ${e.message}` })),
    };
  }
  const r = await fetchJson(fetcher, jwksUri, { ...options, label: 'the jwks_uri' });
  switch (r.kind) {
    case 'not_modified':
      return { outcome: 'not_modified', lifetime: r.lifetime, validators: r.validators };
    case 'transient':
      return { outcome: 'transient', errors: r.errors };
    case 'json': {
      const check = checkJwkSet(r.json, 'jwks_uri');
      if (!check.valid) return { outcome: 'refused', errors: check.errors };
      const jwks = { keys: check.keys };
      return {
        outcome: 'ok',
        jwks,
        warnings: [...r.warnings, ...check.warnings],
        lifetime: r.lifetime,
        validators: r.validators,
        rawHash: createHash('sha256').update(JSON.stringify(jwks)).digest('hex'),
      };
    }
    default:
      return { outcome: 'refused', errors: r.errors };
  }
}
