import { Module } from '@nestjs/common';
import { BearerAuthGuard } from '../common/auth/bearer-auth.guard';
import { TenantAccessGuard } from '../common/auth/tenant-access.guard';
import { ApiKeysService } from './api-keys.service';
import { TenantPoliciesService } from './tenant-policies.service';
import { TenantController, TenantsController } from './tenants.controller';
import { TenantsRepository } from './tenants.repository';

/**
 * Tenants, their policies and API keys; and the guards every other module's routes use to
 * authenticate callers with those keys.
 */
@Module({
  controllers: [TenantsController, TenantController],
  providers: [TenantsRepository, TenantPoliciesService, ApiKeysService, BearerAuthGuard, TenantAccessGuard],
  exports: [TenantPoliciesService, ApiKeysService, BearerAuthGuard, TenantAccessGuard],
})
export class TenantsModule {}
