import type { MetadataDocument } from '../document/metadata-document';
import { quote, RuleCode } from '../findings';
import type { TenantPolicy } from '../policy/tenant-policy';

/** How a client can authenticate at a token endpoint this service checks for. */
export const CLIENT_AUTH_METHODS = ['none', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export interface AuthMethodsVerdict {
  /** What the tenant's token endpoint accepts from this client, in the client's order of preference. */
  accepted: ClientAuthMethod[];
  /** Why the client cannot authenticate at this tenant at all. */
  refusal?: { reason: RuleCode; description: string };
}

/** Methods the client offers: its `token_endpoint_auth_methods_supported` when it publishes one, else its one method. */
export function offeredMethods(document: MetadataDocument): string[] {
  return document.token_endpoint_auth_methods_supported ?? [document.token_endpoint_auth_method];
}

/** Whether the tenant can check assertions: they must be addressed to something. */
export function tenantChecksAssertions(policy: TenantPolicy): boolean {
  return policy.issuer !== undefined && policy.token_endpoint !== undefined;
}

/**
 * The methods a client may authenticate with at one tenant: what it offers (SPEC-NOTES 26;
 * `token_endpoint_auth_methods_supported` in a document, as the working group discusses,
 * negotiates like RFC 8414's member of that name), met with what the tenant accepts. A client
 * that offers `none` besides `private_key_jwt` (ChatGPT's document) stays usable as a public
 * client at a tenant that does not check assertions; a client that offers only
 * `private_key_jwt` is never treated as public.
 */
export function authMethodsFor(document: MetadataDocument, policy: TenantPolicy): AuthMethodsVerdict {
  const offered = offeredMethods(document);
  const hasKeys = document.jwks !== undefined || document.jwks_uri !== undefined;
  const tenant = new Set<string>(policy.token_endpoint_auth_methods_supported);
  const configured = tenantChecksAssertions(policy);
  const accepted = offered.filter(
    (m): m is ClientAuthMethod =>
      (m === 'none' && tenant.has('none')) || (m === 'private_key_jwt' && hasKeys && configured && tenant.has(m)),
  );
  if (accepted.length > 0) return { accepted };
  if (offered.includes('private_key_jwt') && tenant.has('private_key_jwt') && !configured) {
    return {
      accepted,
      refusal: {
        reason: 'client_auth.tenant_not_configured',
        description:
          'This client authenticates with private_key_jwt, and this authorization server has not set the issuer and token_endpoint its client assertions must be addressed to (tenant policy fields issuer and token_endpoint).',
      },
    };
  }
  return {
    accepted,
    refusal: {
      reason: 'client_auth.method_not_supported',
      description: `This client authenticates with ${offered.map((m) => quote(m)).join(' or ')}, which this authorization server does not accept (it accepts ${policy.token_endpoint_auth_methods_supported.map((m) => quote(m)).join(', ') || 'none'}).`,
    },
  };
}
