import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { TenantPolicySchema } from '@cimd/core';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { invalidRequest } from '../common/domain-error';
import { ApiErrors, ApiJsonBody } from '../common/openapi';
import { POLICY_EXAMPLES } from '../tenants/tenants.schemas';
import { DRY_RUN_EXAMPLE, DRY_RUN_SCHEMA, VALIDATION_EXAMPLE, VALIDATION_SCHEMA } from './openapi-schemas';
import { PolicyDryRunService } from './policy-dry-run.service';

/** A policy before it is saved: validated as it is typed, and tried on the clients the tenant has seen. */
@ApiTags('tenants')
@Controller('v1/tenants/:tenant/policy')
@TenantScoped()
export class PolicyDryRunController {
  constructor(private readonly dryRuns: PolicyDryRunService) {}

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Check a policy without saving it: 200 {valid, errors, policy} (tenant key or admin)',
  })
  @ApiJsonBody(TenantPolicySchema, POLICY_EXAMPLES)
  @ApiOkResponse({ schema: VALIDATION_SCHEMA, example: VALIDATION_EXAMPLE })
  @ApiErrors(404, 413, 415)
  validate(@TenantId() tenant: string, @Body() body: unknown) {
    return this.dryRuns.validate(tenant, body ?? null);
  }

  @Post('dry-run')
  @HttpCode(200)
  @ApiOperation({
    summary: 'With this policy, which of the clients the tenant has seen would now be refused, and why (nothing saved)',
    description:
      'Each client the tenant asked about (its last request) or has sessions of is decided from the cache, without ' +
      'fetching, under the policy in force and under this one; rows that change come first. 400 for an invalid policy.',
  })
  @ApiJsonBody(TenantPolicySchema, POLICY_EXAMPLES)
  @ApiOkResponse({ schema: DRY_RUN_SCHEMA, example: DRY_RUN_EXAMPLE })
  @ApiErrors(404, 413, 415)
  dryRun(@TenantId() tenant: string, @Body() body: unknown) {
    if (body === undefined) throw invalidRequest('the request body must be the policy as a JSON object');
    return this.dryRuns.dryRun(tenant, body);
  }
}
