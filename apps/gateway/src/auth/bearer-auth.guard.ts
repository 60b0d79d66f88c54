import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { unauthorized, unavailable } from '../common/api-error';
import { ApiKeysService } from './api-keys.service';
import type { AuthenticatedRequest } from './principal';

/** `Authorization: Bearer <admin token | tenant API key>` on every /v1 route except logos. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(@Inject(ApiKeysService) private readonly apiKeys: ApiKeysService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    if (!header) throw unauthorized('missing Authorization header; send "Authorization: Bearer <token>"');
    const m = /^Bearer[ ]+([\x21-\x7e]{1,512})$/i.exec(header);
    if (!m || !m[1]) throw unauthorized('the Authorization header must be "Bearer <token>"');
    let principal;
    try {
      principal = await this.apiKeys.verify(m[1]);
    } catch {
      throw unavailable('API keys cannot be checked right now (the database is unreachable); retry shortly');
    }
    if (!principal) throw unauthorized('the bearer token is not a valid admin token or API key');
    request.principal = principal;
    return true;
  }
}
