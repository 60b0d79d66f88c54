import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../common/auth/bearer-auth.guard';
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
  @ApiOperation({
    summary: 'The caller: the platform admin (with the tenants, at most 1000), or the tenant of this API key',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['kind'],
      properties: {
        kind: { type: 'string', enum: ['admin', 'tenant'] },
        tenant: { type: 'string', description: "the key's tenant" },
        tenants: {
          type: 'array',
          description: "the admin's: every tenant by id, with the version of its policy",
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              created_at: { type: 'string', format: 'date-time' },
              policy_version: { type: 'integer' },
            },
          },
        },
      },
    },
    example: { kind: 'tenant', tenant: 'acme' },
  })
  async whoami(@CurrentPrincipal() principal: Principal) {
    if (principal.kind !== 'admin') return { kind: 'tenant', tenant: principal.tenantId };
    const rows = await this.directory.tenants(1000);
    return {
      kind: 'admin',
      tenants: rows.map((t) => ({
        id: t.id,
        created_at: new Date(t.created_at).toISOString(),
        policy_version: t.policy_version,
      })),
    };
  }
}
