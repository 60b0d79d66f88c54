import type { FastifyRequest } from 'fastify';
import { forbidden } from '../common/api-error';

/** Who is calling: the platform admin, or one tenant's API key. */
export type Principal = { kind: 'admin' } | { kind: 'tenant'; tenantId: string; keyId: string };

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

export function assertAdmin(principal: Principal): void {
  if (principal.kind !== 'admin') throw forbidden('this operation needs the platform admin token');
}

/** The admin, or a key of this very tenant. Another tenant's key learns nothing, not even whether the tenant exists. */
export function assertTenantAccess(principal: Principal, tenantId: string): void {
  if (principal.kind === 'admin') return;
  if (principal.tenantId !== tenantId) throw forbidden('this API key belongs to another tenant');
}

export function principalOf(req: AuthenticatedRequest): Principal {
  // BearerAuthGuard always sets it; the check keeps the type honest.
  if (!req.principal) throw new Error('BearerAuthGuard did not run');
  return req.principal;
}
