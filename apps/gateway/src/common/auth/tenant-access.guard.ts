import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiParam } from '@nestjs/swagger';
import { ApiErrors } from '../openapi';
import { TENANT_ID, tenantId } from '../parse-body';
import { BearerAuthGuard } from './bearer-auth.guard';
import { assertTenantAccess, AuthenticatedRequest } from './principal';

type TenantRequest = AuthenticatedRequest & { params: { tenant?: string }; tenant?: string };

/**
 * Routes under /v1/tenants/:tenant: after BearerAuthGuard, a 400 for what cannot be a tenant id
 * and a 403 for another tenant's key; the checked id is what @TenantId() gives the handler.
 */
@Injectable()
export class TenantAccessGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<TenantRequest>();
    const tenant = tenantId(request.params.tenant ?? '');
    // BearerAuthGuard ran first and set it.
    if (request.principal) assertTenantAccess(request.principal, tenant);
    request.tenant = tenant;
    return true;
  }
}

/** A controller whose routes belong to one tenant (`:tenant` in the path): the admin or that tenant's key. */
export const TenantScoped = () =>
  applyDecorators(
    UseGuards(BearerAuthGuard, TenantAccessGuard),
    ApiBearerAuth('bearer'),
    ApiParam({
      name: 'tenant',
      description: 'The tenant id: 1-63 lower-case letters, digits or hyphens',
      schema: { type: 'string', pattern: TENANT_ID.source },
      example: 'acme',
    }),
    ApiErrors(400, 401, 403, 503),
  );

/** The tenant of the route, checked by TenantAccessGuard. */
export const TenantId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const tenant = context.switchToHttp().getRequest<TenantRequest>().tenant;
  if (tenant === undefined) throw new Error('@TenantId() needs @TenantScoped()');
  return tenant;
});

/** The authenticated caller, set by BearerAuthGuard. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('@CurrentPrincipal() needs BearerAuthGuard');
  return principal;
});
