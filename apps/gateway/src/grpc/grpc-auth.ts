import type { Metadata } from '@grpc/grpc-js';
import type { ApiKeysService } from '../auth/api-keys.service';
import type { Principal } from '../auth/principal';
import { unauthorized, unavailable } from '../common/api-error';

/** The same syntax BearerAuthGuard accepts in the HTTP Authorization header. */
const BEARER = /^Bearer[ ]+([\x21-\x7e]{1,512})$/i;

/**
 * The caller of a gRPC call, from the metadata `authorization: Bearer <admin token | tenant
 * API key>`: the gRPC twin of BearerAuthGuard, with the same errors (401 → UNAUTHENTICATED,
 * an unreachable key store → UNAVAILABLE).
 */
export async function authenticate(apiKeys: ApiKeysService, metadata: Metadata | undefined): Promise<Principal> {
  const values = metadata?.get('authorization') ?? [];
  if (values.length === 0) throw unauthorized('missing authorization metadata; send "authorization: Bearer <token>"');
  const [value] = values;
  const m = values.length === 1 && typeof value === 'string' ? BEARER.exec(value) : null;
  if (!m || !m[1]) throw unauthorized('the authorization metadata must be one "Bearer <token>"');
  let principal: Principal | undefined;
  try {
    principal = await apiKeys.verify(m[1]);
  } catch {
    throw unavailable('API keys cannot be checked right now (the database is unreachable); retry shortly');
  }
  if (!principal) throw unauthorized('the bearer token is not a valid admin token or API key');
  return principal;
}
