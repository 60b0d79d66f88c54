import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AdminOnly, Authenticated } from '../common/auth/bearer-auth.guard';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { invalidRequest } from '../common/domain-error';
import { TENANT_ID, ZodBody } from '../common/parse-body';
import { ApiKeysService } from './api-keys.service';
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
@Controller('v1/tenants')
@Authenticated()
export class TenantsController {
  constructor(private readonly policies: TenantPoliciesService) {}

  @Post()
  @HttpCode(201)
  @AdminOnly()
  @ApiOperation({ summary: 'Create a tenant (admin), optionally with its policy' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', example: 'acme' }, policy: { type: 'object' } },
    },
  })
  async create(@Body(new ZodBody(CreateTenantBody)) { id, policy }: z.output<typeof CreateTenantBody>) {
    const created = await this.policies.createTenant(id, policy);
    return { id, policy_version: created.version, policy: created.policy };
  }
}

/** One tenant's policy and API keys. */
@ApiTags('tenants')
@Controller('v1/tenants/:tenant')
@TenantScoped()
export class TenantController {
  constructor(
    private readonly policies: TenantPoliciesService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  @Get('policy')
  @ApiOperation({ summary: "The tenant's policy in force (admin or the tenant's key)" })
  async getPolicy(@TenantId() tenant: string) {
    const p = await this.policies.require(tenant);
    return { tenant, version: p.version, policy: p.policy };
  }

  @Put('policy')
  @ApiOperation({ summary: 'Replace the policy: stored as a new version (admin or the tenant key)' })
  @ApiBody({ schema: { type: 'object', description: 'A tenant policy; every field is optional (see docs/API.md)' } })
  async putPolicy(@TenantId() tenant: string, @Body() body: unknown) {
    // No body is a mistake, not "reset to the defaults": that takes an explicit {}.
    if (body === undefined)
      throw invalidRequest('the request body must be the policy as a JSON object ({} for the defaults)');
    const p = await this.policies.replace(tenant, body);
    return { tenant, version: p.version, policy: p.policy };
  }

  @Post('keys')
  @HttpCode(201)
  @AdminOnly()
  @ApiOperation({ summary: 'Create an API key for the tenant (admin); the key is shown only in this response' })
  async createKey(@TenantId() tenant: string) {
    await this.policies.require(tenant);
    return this.apiKeys.create(tenant);
  }

  @Delete('keys/:id')
  @HttpCode(204)
  @AdminOnly()
  @ApiOperation({ summary: 'Revoke an API key (admin)' })
  async revokeKey(@TenantId() tenant: string, @Param('id') id: string): Promise<void> {
    await this.policies.require(tenant);
    await this.apiKeys.revoke(tenant, id);
  }
}
