import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiKeysService } from '../auth/api-keys.service';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { assertAdmin, assertTenantAccess, AuthenticatedRequest, principalOf } from '../auth/principal';
import { badRequest } from '../common/api-error';
import { parseBody, TENANT_ID, tenantParam } from '../common/parse-body';
import { TenantPoliciesService } from './tenant-policies.service';

const CreateTenantBody = z
  .object({
    id: z
      .string()
      .regex(TENANT_ID, 'must be 1-63 lower-case letters, digits or hyphens, not starting or ending with a hyphen'),
    policy: z.unknown().optional(),
  })
  .strict();

@ApiTags('tenants')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    @Inject(TenantPoliciesService) private readonly policies: TenantPoliciesService,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a tenant (admin), optionally with its policy' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', example: 'acme' }, policy: { type: 'object' } },
    },
  })
  async create(@Req() req: AuthenticatedRequest, @Body() body: unknown) {
    assertAdmin(principalOf(req));
    const { id, policy } = parseBody(CreateTenantBody, body);
    const created = await this.policies.createTenant(id, policy);
    return { id, policy_version: created.version, policy: created.policy };
  }

  @Get(':tenant/policy')
  @ApiOperation({ summary: "The tenant's policy in force (admin or the tenant's key)" })
  async getPolicy(@Req() req: AuthenticatedRequest, @Param('tenant') tenant: string) {
    assertTenantAccess(principalOf(req), tenantParam(tenant));
    const p = await this.policies.require(tenant);
    return { tenant, version: p.version, policy: p.policy };
  }

  @Put(':tenant/policy')
  @ApiOperation({ summary: 'Replace the policy: stored as a new version (admin or the tenant key)' })
  @ApiBody({ schema: { type: 'object', description: 'A tenant policy; every field is optional (see README)' } })
  async putPolicy(@Req() req: AuthenticatedRequest, @Param('tenant') tenant: string, @Body() body: unknown) {
    assertTenantAccess(principalOf(req), tenantParam(tenant));
    // No body is a mistake, not "reset to the defaults": that takes an explicit {}.
    if (body === undefined)
      throw badRequest('the request body must be the policy as a JSON object ({} for the defaults)');
    const p = await this.policies.replace(tenant, body);
    return { tenant, version: p.version, policy: p.policy };
  }

  @Post(':tenant/keys')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key for the tenant (admin); the key is shown only in this response' })
  async createKey(@Req() req: AuthenticatedRequest, @Param('tenant') tenant: string) {
    assertAdmin(principalOf(req));
    await this.policies.require(tenantParam(tenant));
    return this.apiKeys.create(tenant);
  }

  @Delete(':tenant/keys/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key (admin)' })
  async revokeKey(
    @Req() req: AuthenticatedRequest,
    @Param('tenant') tenant: string,
    @Param('id') id: string,
  ): Promise<void> {
    assertAdmin(principalOf(req));
    await this.policies.require(tenantParam(tenant));
    await this.apiKeys.revoke(tenant, id);
  }
}
