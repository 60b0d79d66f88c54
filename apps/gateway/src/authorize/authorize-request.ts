import type { AuthorizeRequest } from '@cimd/core';
import { z } from 'zod';

/** An authorize check as either transport receives it (the HTTP body; the gRPC message's fields). */
export const AuthorizeCheckBody = z
  .object({
    client_id: z.string().max(8192).meta({ description: 'The client_id of the authorization request: an https URL' }),
    redirect_uri: z.string().min(1).max(8192).meta({ description: 'The redirect_uri of the authorization request' }),
    response_type: z.string().max(256).optional().meta({ description: 'Defaults to "code"' }),
    scope: z.string().max(8192).optional(),
    code_challenge_method: z
      .string()
      .max(64)
      .optional()
      .meta({ description: 'The PKCE method; public clients need S256 unless the tenant policy says otherwise' }),
  })
  .strict()
  .meta({
    description: 'The parameters of one authorization request that the decision depends on',
  }) satisfies z.ZodType<AuthorizeRequest>;
