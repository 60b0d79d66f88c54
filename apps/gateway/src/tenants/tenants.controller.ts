import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { TenantPolicySchema } from '@cimd/core';
import { z } from 'zod';
import { AdminOnly, Authenticated } from '../common/auth/bearer-auth.guard';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { invalidRequest } from '../common/domain-error';
import { ApiErrors, ApiJsonBody, ApiJsonResponse } from '../common/openapi';
import { ZodBody } from '../common/parse-body';
import { ApiKeysService } from './api-keys.service';
import { TenantPoliciesService } from './tenant-policies.service';
import {
  CREATE_TENANT_EXAMPLES,
  CREATED_KEY_EXAMPLES,
  CREATED_TENANT_EXAMPLES,
  CreateTenantBody,
  CreateTenantBodyDocumented,
  CreatedApiKey,
  CreatedTenant,
  POLICY_EXAMPLES,
  POLICY_VIEW_EXAMPLES,
  PolicyView,
} from './tenants.schemas';

@ApiTags('tenants')
@Controller('v1/tenants')
@Authenticated()
export class TenantsController {
  constructor(private readonly policies: TenantPoliciesService) {}

  @Post()
  @HttpCode(201)
  @AdminOnly()
  @ApiOperation({ summary: 'Create a tenant (admin), optionally with its policy' })
  @ApiJsonBody(CreateTenantBodyDocumented, CREATE_TENANT_EXAMPLES)
  @ApiJsonResponse(
    201,
    'The tenant, with its policy as enforced (defaults filled in)',
    CreatedTenant,
    CREATED_TENANT_EXAMPLES,
  )
  @ApiErrors(400, 409, 413, 415)
  async create(
    @Body(new ZodBody(CreateTenantBody)) { id, policy }: z.output<typeof CreateTenantBody>,
  ): Promise<CreatedTenant> {
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
  @ApiJsonResponse(200, 'The policy in force, every default filled in', PolicyView, POLICY_VIEW_EXAMPLES)
  @ApiErrors(404)
  async getPolicy(@TenantId() tenant: string): Promise<PolicyView> {
    const p = await this.policies.require(tenant);
    return { tenant, version: p.version, policy: p.policy };
  }

  @Put('policy')
  @ApiOperation({ summary: 'Replace the policy: stored as a new version (admin or the tenant key)' })
  @ApiJsonBody(TenantPolicySchema, POLICY_EXAMPLES)
  @ApiJsonResponse(200, 'The new policy in force and its version', PolicyView, POLICY_VIEW_EXAMPLES)
  @ApiErrors(404, 413, 415)
  async putPolicy(@TenantId() tenant: string, @Body() body: unknown): Promise<PolicyView> {
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
  @ApiJsonResponse(201, 'The new key', CreatedApiKey, CREATED_KEY_EXAMPLES)
  @ApiErrors(404)
  async createKey(@TenantId() tenant: string): Promise<CreatedApiKey> {
    await this.policies.require(tenant);
    return this.apiKeys.create(tenant);
  }

  @Delete('keys/:id')
  @HttpCode(204)
  @AdminOnly()
  @ApiOperation({ summary: 'Revoke an API key (admin)' })
  @ApiParam({ name: 'id', description: 'The key id (a UUID)', schema: { type: 'string', format: 'uuid' } })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(404)
  async revokeKey(@TenantId() tenant: string, @Param('id') id: string): Promise<void> {
    await this.policies.require(tenant);
    await this.apiKeys.revoke(tenant, id);
  }
}
