import { ApiKeyEntity } from './api-key.entity';
import { RegisteredClientEntity } from './registered-client.entity';
import { ProcessedEventEntity, RevocationEntity, TenantEventEntity, WebhookDeliveryEntity } from './event-log.entity';
import { SessionEntity } from './session.entity';
import { TenantClientEntity } from './tenant-client.entity';
import { TenantPolicyEntity } from './tenant-policy.entity';
import { TenantEntity } from './tenant.entity';

export {
  ApiKeyEntity,
  RegisteredClientEntity,
  ProcessedEventEntity,
  RevocationEntity,
  SessionEntity,
  TenantClientEntity,
  TenantEntity,
  TenantEventEntity,
  TenantPolicyEntity,
  WebhookDeliveryEntity,
};
export const ENTITIES = [
  TenantEntity,
  TenantPolicyEntity,
  ApiKeyEntity,
  RegisteredClientEntity,
  SessionEntity,
  ProcessedEventEntity,
  RevocationEntity,
  TenantEventEntity,
  WebhookDeliveryEntity,
  TenantClientEntity,
];
