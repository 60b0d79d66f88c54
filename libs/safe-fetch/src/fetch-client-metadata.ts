import { CacheBounds, checkClientIdUrl, FetchOutcome, validateMetadataDocument, Validators } from '@cimd/core';
import { fetchJson, finding } from './fetch-json';
import { SafeFetcher } from './safe-fetcher';

export interface FetchClientMetadataOptions {
  /** Validators of the cached, validated copy: the request becomes conditional. */
  validators?: Validators;
  now?: number;
  cacheBounds?: Partial<CacheBounds>;
}

/**
 * Fetch a client_id's metadata document and judge it: URL rules, safe fetch, status,
 * content type, JSON, document rules, cache lifetime. Never throws for anything the origin
 * does; every path ends in one FetchOutcome.
 */
export async function fetchClientMetadata(
  fetcher: SafeFetcher,
  clientId: string,
  options: FetchClientMetadataOptions = {},
): Promise<FetchOutcome> {
  const urlCheck = checkClientIdUrl(clientId);
  if (!urlCheck.valid) return { outcome: 'blocked', errors: urlCheck.errors };
  const r = await fetchJson(fetcher, clientId, { ...options, label: 'the document URL' });
  switch (r.kind) {
    case 'not_modified':
      return { outcome: 'not_modified', lifetime: r.lifetime, validators: r.validators, warnings: urlCheck.warnings };
    case 'gone':
      return {
        outcome: 'gone',
        status: r.status,
        errors: [
          finding('fetch.gone', `the document URL answered ${r.status}; the client no longer publishes its metadata`),
        ],
      };
    case 'redirect':
      return {
        outcome: 'redirect',
        status: r.status,
        ...(r.location !== undefined ? { location: r.location } : {}),
        errors: r.errors.map((e) => ({
          ...e,
          message: `${e.message}, the document must be served at the client_id itself`,
        })),
      };
    case 'transient':
      return {
        outcome: 'transient',
        ...(r.status !== undefined ? { status: r.status } : {}),
        ...(r.retryAfterSeconds !== undefined ? { retryAfterSeconds: r.retryAfterSeconds } : {}),
        errors: r.errors,
      };
    case 'invalid':
      return {
        outcome: 'invalid',
        status: r.status,
        warnings: [...urlCheck.warnings, ...r.warnings],
        errors: r.errors,
        ...(r.body !== undefined ? { body: r.body } : {}),
      };
    case 'blocked':
    case 'too_large':
    case 'bad_content_type':
      return { outcome: r.kind, errors: r.errors };
    case 'json': {
      const warnings = [...urlCheck.warnings, ...r.warnings];
      const check = validateMetadataDocument(r.json, { clientId });
      warnings.push(...check.warnings);
      if (!check.valid || !check.document)
        return { outcome: 'invalid', status: 200, warnings, errors: check.errors, body: r.text };
      return {
        outcome: 'ok',
        document: check.document,
        warnings,
        lifetime: r.lifetime,
        validators: r.validators,
        rawHash: r.rawHash,
        bytes: r.bytes,
      };
    }
  }
}
