import type { AuthorizationServerMetadataMembers, CimdGateway } from '@cimd/client';
import type { Middleware } from 'koa';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { Configuration, errors } from 'oidc-provider';
import type { AuthorizationServerConfig } from './config';
import { GRANT_TTL_SECONDS } from './consent';
import { GatewayClients } from './gateway-clients';
import type { MemoryStore } from './memory-store';
import { errorPage } from './pages';

/** oidc-provider's routes this AS puts the gateway in front of (its defaults, written down once). */
export const ROUTES = {
  authorization: '/auth',
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
} as const;

function audiences(aud: unknown): string[] {
  return Array.isArray(aud)
    ? aud.filter((a): a is string => typeof a === 'string')
    : typeof aud === 'string'
      ? [aud]
      : [];
}

/**
 * oidc-provider, configured for clients it never registered: CIMD clients are looked up through
 * the gateway (GatewayClients) and never fetched by oidc-provider itself; the one registered
 * client is the resource server, which introspects the tokens it receives.
 */
export function createProvider(config: AuthorizationServerConfig, gateway: CimdGateway, store: MemoryStore): Provider {
  const clients = new GatewayClients(gateway);
  const resource = config.resource;
  const configuration: Configuration = {
    adapter: (model: string) => (model === 'Client' ? clients : store.adapter(model)),
    clients: [
      {
        client_id: resource.clientId,
        client_secret: resource.clientSecret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    // What oidc-provider itself checks: nothing for CIMD clients (the gateway authenticates them,
    // see client-authentication.ts), a secret for the resource server at introspection.
    clientAuthMethods: ['none', 'client_secret_basic'],
    features: {
      // The gateway fetches, validates and caches client metadata documents, off the request path
      // and in an isolated fetcher; oidc-provider's own fetching stays off.
      clientIdMetadataDocument: { enabled: false },
      devInteractions: { enabled: false },
      // authorize-gate.ts checks the parameters of the request itself: no pushed (PAR) or signed
      // (JAR) requests whose parameters it would not see.
      pushedAuthorizationRequests: { enabled: false },
      requestObjects: { enabled: false },
      introspection: {
        enabled: true,
        // Only the resource server, only for tokens addressed to it.
        async allowedPolicy(ctx, caller, token) {
          if (caller.clientId !== resource.clientId) return false;
          if (!audiences((token as { aud?: unknown }).aud).includes(resource.url)) return false;
          // oidc-provider looks the token's client up after this hook and fails on one that is
          // gone; such a token is simply not active.
          return token.clientId !== undefined && (await ctx.oidc.provider.Client.find(token.clientId)) !== undefined;
        },
      },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource.url,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, indicator) {
          if (indicator !== resource.url)
            throw new errors.InvalidTarget('this authorization server has no such resource');
          return {
            scope: resource.scopes.join(' '),
            audience: resource.url,
            accessTokenFormat: 'opaque',
            accessTokenTTL: 600,
          };
        },
      },
    },
    routes: ROUTES,
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // MCP clients ask for the resource's scopes, not offline_access: a client whose document
    // lists the refresh_token grant gets a refresh token.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', ...resource.scopes],
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 600,
      RefreshToken: 86_400,
      Grant: GRANT_TTL_SECONDS,
      Interaction: 600,
      Session: 86_400,
    },
    // Signs ID tokens (RS256, oidc-provider's default), made at start: a real AS keeps its keys.
    jwks: { keys: [generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(String(out.error), String(out.error_description ?? 'the request failed'));
    },
  };
  return new Provider(config.issuer, configuration);
}

/**
 * The AS's RFC 8414 metadata with the gateway's members in it (client_id_metadata_document_supported,
 * token_endpoint_auth_methods_supported, …): oidc-provider publishes what it checks itself,
 * the gateway's members say what it checks for this AS. Also served at RFC 8414's own path.
 */
export function metadataMembers(members: AuthorizationServerMetadataMembers): Middleware {
  return async (ctx, next) => {
    if (ctx.path === '/.well-known/oauth-authorization-server') ctx.path = '/.well-known/openid-configuration';
    await next();
    if (ctx.path === '/.well-known/openid-configuration' && ctx.status === 200 && typeof ctx.body === 'object') {
      Object.assign(ctx.body as object, members, {
        introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    }
  };
}
