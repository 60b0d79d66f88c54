import type { Metadata } from '@grpc/grpc-js';
import { BEARER, Principal } from '../common/auth/principal';
import { unauthenticated } from '../common/domain-error';
import type { ApiKeysService } from '../tenants/api-keys.service';

/**
 * The caller of a gRPC call, from the metadata `authorization: Bearer <admin token | tenant
 * API key>`: the gRPC twin of BearerAuthGuard, with the same errors.
 */
export async function authenticate(apiKeys: ApiKeysService, metadata: Metadata | undefined): Promise<Principal> {
  const values = metadata?.get('authorization') ?? [];
  if (values.length === 0)
    throw unauthenticated('missing authorization metadata; send "authorization: Bearer <token>"');
  const [value] = values;
  const m = values.length === 1 && typeof value === 'string' ? BEARER.exec(value) : null;
  if (!m || !m[1]) throw unauthenticated('the authorization metadata must be one "Bearer <token>"');
  // A token this replica verified before against the key record it still holds needs no I/O and no hashing.
  return apiKeys.verifyCached(m[1]) ?? apiKeys.principal(m[1]);
}
