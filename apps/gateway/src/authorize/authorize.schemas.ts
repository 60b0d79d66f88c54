import { StoredRuleCodeSchema } from '@cimd/core';
import { z } from 'zod';
import { describing } from '../common/openapi';
import type { AuthorizeCheckBody } from './authorize-request';
import type { AuthorizeResponse } from './authorize.service';

export const AuthorizeResponseSchema = describing<AuthorizeResponse>()(
  z
    .object({
      decision: z.enum(['allow', 'deny', 'pending']).meta({
        description: 'pending: the document could not be had in time (error temporarily_unavailable); ask again',
      }),
      error: z
        .enum([
          'invalid_request',
          'invalid_client',
          'unauthorized_client',
          'unsupported_response_type',
          'invalid_scope',
          'temporarily_unavailable',
        ])
        .optional()
        .meta({ description: 'The OAuth error (RFC 6749 §4.1.2.1) to answer the authorization request with' }),
      error_description: z.string().optional(),
      reason: StoredRuleCodeSchema.optional().meta({ description: 'The rule that decided a denial' }),
      redirect: z.boolean().optional().meta({
        description:
          'On a denial: whether the AS may send the error back to the redirect_uri; false when the client_id or the redirect_uri is the problem (RFC 6749 §4.1.2.1): show an error page instead',
      }),
      client: z
        .object({
          client_id: z.string(),
          host: z.string().meta({ description: 'The client_id host: always shown on the consent screen' }),
          host_unicode: z.string().optional().meta({
            description:
              'Only for a host with a punycode (xn--) label: the host as a person reads it (it may imitate another)',
          }),
          host_punycode: z
            .string()
            .optional()
            .meta({ description: 'Only with host_unicode: the ASCII form, the one a look-alike cannot fake' }),
          name: z.string().optional(),
          client_uri: z.string().optional(),
          logo_url: z.string().optional().meta({ description: "The gateway's own copy of the logo" }),
          tos_uri: z.string().optional(),
          policy_uri: z.string().optional(),
          redirect_host: z.string().optional().meta({ description: 'Where the user is sent back to' }),
        })
        .optional()
        .meta({ description: 'What a consent screen shows (name and logo by tenant policy)' }),
      trust: z
        .object({
          level: z.enum(['trusted', 'verified_origin', 'unverified']),
          warnings: z.array(StoredRuleCodeSchema),
        })
        .optional(),
      fetch_error: z
        .object({ code: StoredRuleCodeSchema, message: z.string(), at: z.iso.datetime() })
        .optional()
        .meta({ description: "On pending: why the client's last fetch failed, when known" }),
      retry_after_seconds: z
        .number()
        .int()
        .optional()
        .meta({ description: 'On pending: seconds after which a new check may get another answer' }),
      cache: z
        .object({
          status: z.enum(['hit', 'refreshing', 'fetched', 'stale']),
          fetched_at: z.iso.datetime(),
          expires_at: z.iso.datetime(),
        })
        .optional()
        .meta({ description: 'Where the document came from, for a valid client' }),
    })
    .meta({ description: 'The decision on one authorization request' }),
);

const CLIENT_ID = 'https://app.example/oauth/client.json';

export const AUTHORIZE_CHECK_EXAMPLES: Record<string, z.input<typeof AuthorizeCheckBody>> = {
  'a public client with PKCE': {
    client_id: CLIENT_ID,
    redirect_uri: 'https://app.example/callback',
    response_type: 'code',
    scope: 'openid profile',
    code_challenge_method: 'S256',
  },
};

export const AUTHORIZE_DECISION_EXAMPLES: Record<string, z.output<typeof AuthorizeResponseSchema>> = {
  allow: {
    decision: 'allow',
    client: { client_id: CLIENT_ID, host: 'app.example', name: 'Example App', redirect_host: 'app.example' },
    trust: { level: 'verified_origin', warnings: ['client.first_seen_recently'] },
    cache: { status: 'hit', fetched_at: '2026-11-02T10:00:00.000Z', expires_at: '2026-11-02T11:00:00.000Z' },
  },
  deny: {
    decision: 'deny',
    error: 'invalid_request',
    error_description:
      'redirect_uri "https://evil.example/callback" is not registered in the client\'s metadata document, which lists 1 redirect URI.',
    reason: 'redirect_uri.not_registered',
    redirect: false,
    client: { client_id: CLIENT_ID, host: 'app.example', name: 'Example App' },
  },
  pending: {
    decision: 'pending',
    error: 'temporarily_unavailable',
    error_description: "The client's metadata document could not be fetched in time; try again shortly.",
    reason: 'client.pending',
    fetch_error: {
      code: 'fetch.timeout',
      message: 'the origin did not answer within 5000 ms',
      at: '2026-11-02T10:00:00.000Z',
    },
    retry_after_seconds: 5,
  },
};
