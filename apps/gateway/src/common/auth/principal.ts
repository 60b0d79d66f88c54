import type { FastifyRequest } from 'fastify';
import { forbidden } from '../domain-error';

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

/** `Authorization: Bearer <token>` (HTTP) and `authorization: Bearer <token>` (gRPC metadata). */
export const BEARER = /^Bearer[ ]+([\x21-\x7e]{1,512})$/i;
