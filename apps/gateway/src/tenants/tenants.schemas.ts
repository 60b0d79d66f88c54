import { TenantPolicyInput, TenantPolicySchema } from '@cimd/core';
import { z } from 'zod';
import { TENANT_ID } from '../common/parse-body';

export const CreateTenantBody = z
  .object({
    id: z
      .string()
      .regex(TENANT_ID, 'must be 1-63 lower-case letters, digits or hyphens, not starting or ending with a hyphen'),
    // Checked by validatePolicy (TenantPolicySchema, plus what PostgreSQL cannot store).
    policy: z.unknown().optional(),
  })
  .strict();

/** CreateTenantBody as the document shows it: the policy is a TenantPolicySchema. */
export const CreateTenantBodyDocumented = CreateTenantBody.extend({
  policy: TenantPolicySchema.optional().meta({ description: 'The first policy; omitted: every default' }),
}).meta({ description: 'A new tenant (an authorization server) and, optionally, its policy' });

/** A policy as stored and enforced: every default filled in. */
export const PolicyView = z.object({
  tenant: z.string(),
  version: z.number().int().meta({ description: 'Each replacement stores a new version' }),
  policy: TenantPolicySchema,
});
export type PolicyView = z.output<typeof PolicyView>;

export const CreatedTenant = z.object({
  id: z.string(),
  policy_version: z.number().int(),
  policy: TenantPolicySchema,
});
export type CreatedTenant = z.output<typeof CreatedTenant>;

export const CreatedApiKey = z.object({
  id: z.uuid().meta({ description: 'The key id, to revoke it' }),
  key: z.string().meta({ description: 'The bearer token (cimd_<id>_<secret>); shown only in this response' }),
});
export type CreatedApiKey = z.output<typeof CreatedApiKey>;

export const POLICY_EXAMPLES: Record<string, TenantPolicyInput> = {
  'a tenant that revokes on any change and receives webhooks': {
    deny_hosts: ['*.blocked.example'],
    require_client_name: true,
    on_change: { redirect_uris_added: 'revoke', scope: 'revoke' },
    webhook: { url: 'https://as.example/hooks/cimd', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  },
  'every default': {},
};

export const CREATE_TENANT_EXAMPLES: Record<string, z.input<typeof CreateTenantBodyDocumented>> = {
  'a tenant with a policy': { id: 'acme', policy: { deny_hosts: ['*.blocked.example'] } },
  'a tenant with the default policy': { id: 'acme' },
};

const POLICY = TenantPolicySchema.parse({ deny_hosts: ['*.blocked.example'] });

export const POLICY_VIEW_EXAMPLES: Record<string, PolicyView> = {
  'the policy in force': { tenant: 'acme', version: 2, policy: POLICY },
};

export const CREATED_TENANT_EXAMPLES: Record<string, CreatedTenant> = {
  created: { id: 'acme', policy_version: 1, policy: POLICY },
};

export const CREATED_KEY_EXAMPLES: Record<string, CreatedApiKey> = {
  created: {
    id: '5b0c1f4e-8d2a-4c3b-9e6f-7a1d2c3b4e5f',
    key: 'cimd_5b0c1f4e-8d2a-4c3b-9e6f-7a1d2c3b4e5f_q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c',
  },
};
