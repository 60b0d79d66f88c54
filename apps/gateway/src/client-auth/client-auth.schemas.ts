import { CLIENT_AUTH_METHODS, StoredRuleCodeSchema } from '@cimd/core';
import { z } from 'zod';
import { describing } from '../common/openapi';
import type { AuthenticateClientBody, ClientAuthentication } from './client-auth.service';

const CLIENT_ID = 'https://app.example/oauth/client.json';

export const ClientAuthenticationSchema = describing<ClientAuthentication>()(
  z.object({
    authenticated: z.boolean(),
    method: z.enum(CLIENT_AUTH_METHODS).optional().meta({ description: 'How it authenticated, or would have had to' }),
    error: z.enum(['invalid_client', 'temporarily_unavailable']).optional(),
    error_description: z.string().optional(),
    reason: StoredRuleCodeSchema.optional(),
    fetch_error: z.object({ code: StoredRuleCodeSchema, message: z.string(), at: z.iso.datetime() }).optional(),
    retry_after_seconds: z.number().int().optional(),
    client: z.object({ client_id: z.string(), host: z.string(), name: z.string().optional() }).optional(),
  }),
);

export const AuthorizationServerMetadata = z.object({
  client_id_metadata_document_supported: z.literal(true),
  token_endpoint_auth_methods_supported: z.array(z.enum(CLIENT_AUTH_METHODS)),
  token_endpoint_auth_signing_alg_values_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.literal('S256')),
});
export type AuthorizationServerMetadata = z.output<typeof AuthorizationServerMetadata>;

export const AUTHENTICATE_EXAMPLES: Record<string, z.input<typeof AuthenticateClientBody>> = {
  'a public client': { client_id: CLIENT_ID },
  'a private_key_jwt client': {
    client_id: CLIENT_ID,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: 'eyJhbGciOiJFUzI1NiIsInR5cCI6Im9hdXRoLWNsaWVudC1hdXRoK2p3dCJ9.eyJpc3MiOiIuLi4ifQ.c2ln',
  },
};

export const AUTHENTICATION_EXAMPLES: Record<string, ClientAuthentication> = {
  authenticated: {
    authenticated: true,
    method: 'private_key_jwt',
    client: { client_id: CLIENT_ID, host: 'app.example', name: 'Example App' },
  },
};

export const AS_METADATA_EXAMPLES: Record<string, AuthorizationServerMetadata> = {
  'a tenant that checks assertions': {
    client_id_metadata_document_supported: true,
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS256'],
    code_challenge_methods_supported: ['S256'],
  },
};
