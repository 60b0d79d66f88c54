import { ApiKeyEntity } from './api-key.entity';
import { ClientRecordEntity } from './client-record.entity';
import { TenantPolicyEntity } from './tenant-policy.entity';
import { TenantEntity } from './tenant.entity';

export { ApiKeyEntity, ClientRecordEntity, TenantEntity, TenantPolicyEntity };
export const ENTITIES = [TenantEntity, TenantPolicyEntity, ApiKeyEntity, ClientRecordEntity];
