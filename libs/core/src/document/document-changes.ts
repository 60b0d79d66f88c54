import type { MetadataDocument } from './metadata-document';

/**
 * Changes between two validated versions of a client's document that an authorization
 * server may act on (SPEC-NOTES 23): each tenant's policy decides, per kind, whether to
 * revoke the client's sessions or only notify.
 */
export const DOCUMENT_CHANGES = [
  'redirect_uris_removed',
  'redirect_uris_added',
  'keys',
  'token_endpoint_auth_method',
  'grant_types',
  'scope',
  'client_name',
  'logo_uri',
] as const;

export type DocumentChange = (typeof DOCUMENT_CHANGES)[number];

export function documentChanges(previous: MetadataDocument, next: MetadataDocument): DocumentChange[] {
  const changes: DocumentChange[] = [];
  const before = new Set(previous.redirect_uris);
  const after = new Set(next.redirect_uris);
  if ([...before].some((u) => !after.has(u))) changes.push('redirect_uris_removed');
  if ([...after].some((u) => !before.has(u))) changes.push('redirect_uris_added');
  if (previous.jwks_uri !== next.jwks_uri || canonical(previous.jwks) !== canonical(next.jwks)) changes.push('keys');
  if (previous.token_endpoint_auth_method !== next.token_endpoint_auth_method)
    changes.push('token_endpoint_auth_method');
  if (canonical([...previous.grant_types].sort()) !== canonical([...next.grant_types].sort()))
    changes.push('grant_types');
  if (scopeSet(previous.scope) !== scopeSet(next.scope)) changes.push('scope');
  if (previous.client_name !== next.client_name) changes.push('client_name');
  if (previous.logo_uri !== next.logo_uri) changes.push('logo_uri');
  return changes;
}

function scopeSet(scope: string | undefined): string {
  return scope === undefined ? '' : [...new Set(scope.split(' ').filter(Boolean))].sort().join(' ');
}

/** JSON with object keys sorted, so key order in the published document is not a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
