import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, Authenticated } from '../common/auth/bearer-auth.guard';
import type { Principal } from '../common/auth/principal';
import { CurrentPrincipal } from '../common/auth/tenant-access.guard';
import { ClientDirectoryRepository } from './client-directory.repository';

/** Who a token is, and (for the admin) which tenants there are: what a console needs after sign-in. */
@ApiTags('tenants')
@Controller('v1')
@Authenticated()
export class WhoamiController {
  constructor(private readonly directory: ClientDirectoryRepository) {}

  @Get('whoami')
  @ApiOperation({ summary: 'The caller: the platform admin, or the tenant of this API key' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['kind'],
      properties: { kind: { type: 'string', enum: ['admin', 'tenant'] }, tenant: { type: 'string' } },
    },
  })
  whoami(@CurrentPrincipal() principal: Principal) {
    return principal.kind === 'admin' ? { kind: 'admin' } : { kind: 'tenant', tenant: principal.tenantId };
  }

  @Get('tenants')
  @AdminOnly()
  @ApiOperation({ summary: 'The tenants (admin), by id, with the version of each policy (at most 1000)' })
  async tenants() {
    const rows = await this.directory.tenants(1000);
    return {
      tenants: rows.map((t) => ({
        id: t.id,
        created_at: new Date(t.created_at).toISOString(),
        policy_version: t.policy_version,
      })),
    };
  }
}
