import type { AuthorizeRequest } from '@cimd/core';
import { z } from 'zod';

/** An authorize check as either transport receives it (the HTTP body; the gRPC message's fields). */
export const AuthorizeCheckBody = z
  .object({
    client_id: z.string().max(8192),
    redirect_uri: z.string().min(1).max(8192),
    response_type: z.string().max(256).optional(),
    scope: z.string().max(8192).optional(),
    code_challenge_method: z.string().max(64).optional(),
  })
  .strict() satisfies z.ZodType<AuthorizeRequest>;
