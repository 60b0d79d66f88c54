import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ApiKeysService } from '../../tenants/api-keys.service';
import { unauthenticated } from '../domain-error';
import { ApiErrors } from '../openapi';
import { assertAdmin, AuthenticatedRequest, BEARER } from './principal';

const ADMIN_ONLY = 'cimd:admin-only';

/**
 * `Authorization: Bearer <admin token | tenant API key>`: the caller's principal on the request,
 * or a 401; with @AdminOnly(), a 403 for anyone but the admin.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    if (!header) throw unauthenticated('missing Authorization header; send "Authorization: Bearer <token>"');
    const m = BEARER.exec(header);
    if (!m || !m[1]) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    request.principal = await this.apiKeys.principal(m[1]);
    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [context.getHandler(), context.getClass()]))
      assertAdmin(request.principal);
    return true;
  }
}

/** Every route of the controller (or this route) needs a bearer token. */
export const Authenticated = () =>
  applyDecorators(UseGuards(BearerAuthGuard), ApiBearerAuth('bearer'), ApiErrors(401, 503));

/** Only the platform admin token. */
export const AdminOnly = () => applyDecorators(SetMetadata(ADMIN_ONLY, true), ApiErrors(403));
