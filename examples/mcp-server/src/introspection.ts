import { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { z } from 'zod';

const Introspection = z.looseObject({
  active: z.boolean(),
  client_id: z.string().optional(),
  sub: z.string().optional(),
  scope: z.string().optional(),
  exp: z.number().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
});

/**
 * Access tokens checked by the authorization server at every request (RFC 7662 introspection),
 * not by this server alone: a grant the AS revoked (because cimd-gateway ended the client's
 * sessions) stops working at the next call, not when its token expires. A token must be active
 * and addressed to this server (its `aud` is this resource: RFC 8707); the SDK's
 * requireBearerAuth then checks scopes and expiry.
 */
export function introspectionVerifier(options: {
  endpoint: string;
  resource: string;
  clientId: string;
  clientSecret: string;
}): OAuthTokenVerifier {
  const basic = Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64');
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let answer: unknown;
      try {
        const res = await fetch(options.endpoint, {
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
          signal: AbortSignal.timeout(5_000),
        });
        if (!res.ok) throw new Error(`introspection answered HTTP ${res.status}`);
        answer = await res.json();
      } catch (e) {
        throw new ServerError(`could not introspect the token: ${e instanceof Error ? e.message : String(e)}`);
      }
      const result = Introspection.safeParse(answer);
      if (!result.success) throw new ServerError('the introspection answer is malformed');
      const t = result.data;
      if (!t.active) throw new InvalidTokenError('the token is not active');
      const audiences = Array.isArray(t.aud) ? t.aud : t.aud !== undefined ? [t.aud] : [];
      if (!audiences.includes(options.resource)) throw new InvalidTokenError('the token is not for this resource');
      return {
        token,
        clientId: t.client_id ?? '',
        scopes: (t.scope ?? '').split(' ').filter(Boolean),
        ...(t.exp !== undefined ? { expiresAt: t.exp } : {}),
        resource: new URL(options.resource),
        extra: { sub: t.sub },
      };
    },
  };
}
