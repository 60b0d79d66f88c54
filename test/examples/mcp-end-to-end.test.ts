import { HttpGatewayClient } from '@cimd/client';
import { freePort, waitFor } from '@cimd/testing';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { InvalidClientError, InvalidGrantError, OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { randomBytes } from 'node:crypto';
import { ServiceProcess, startAuthorizationServer, startMcpServer } from '../../examples/mcp-end-to-end/src/processes';
import {
  AuthorizedClient,
  Clients,
  confidentialClient,
  connectWithClientIdMetadataDocument,
  documentChanged,
  documentRemoved,
  McpSystem,
  publishClients,
  REDIRECT_URL,
  refusedWithoutRedirect,
} from '../../examples/mcp-end-to-end/src/story';
import { GatewayStack, startGatewayStack } from '../support/gateway-stack';

/**
 * The whole path with two packages nobody here wrote: the MCP SDK's own client (with
 * `clientMetadataUrl`) against examples/mcp-server, protected by examples/authorization-server
 * (oidc-provider) whose CIMD clients go through cimd-gateway: the gateway and its fetcher, a
 * local HTTPS origin (test CA) hosting the clients' documents, and the two examples as their own
 * processes (built by `npm run build`). The story is examples/mcp-end-to-end/src/story.ts, the
 * one `npm run demo:mcp` prints.
 */
const PUBLIC_URL = 'https://gateway.example';
const HOSTS = { app: 'client.test', other: 'other.test', confidential: 'agent.test' };

let stack: GatewayStack;
let as: ServiceProcess;
let mcp: ServiceProcess;
let system: McpSystem;
let clients: Clients;
/** MCP clients still connected, closed at the end. */
const connected: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  stack = await startGatewayStack('mcp-e2e', {
    hosts: Object.values(HOSTS),
    fetcherEnv: { CIMD_GONE_CONFIRM_DELAY_MS: '300' },
    gatewayEnv: { CIMD_PUBLIC_URL: PUBLIC_URL },
  });
  const [asPort, mcpPort] = [await freePort(), await freePort()];
  const asUrl = `http://127.0.0.1:${asPort}`;
  const mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;
  const policy = { issuer: asUrl, token_endpoint: `${asUrl}/token` };
  expect((await stack.request('POST', '/v1/tenants', { body: { id: 'acme', policy } })).status).toBe(201);
  const apiKey = (await stack.request('POST', '/v1/tenants/acme/keys')).body.key as string;
  const resourceClient = { id: 'mcp-server', secret: randomBytes(24).toString('hex') };

  as = await startAuthorizationServer({
    port: asPort,
    gatewayUrl: stack.url,
    gatewayGrpc: `127.0.0.1:${stack.grpcPort}`,
    tenant: 'acme',
    apiKey,
    resource: mcpUrl,
    resourceClientId: resourceClient.id,
    resourceClientSecret: resourceClient.secret,
  });
  mcp = await startMcpServer({
    port: mcpPort,
    authorizationServer: asUrl,
    clientId: resourceClient.id,
    clientSecret: resourceClient.secret,
  });
  system = {
    gateway: new HttpGatewayClient({ url: stack.url, tenant: 'acme', token: apiKey }),
    refreshClient: async (clientId) => {
      expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: clientId } })).status).toBe(202);
    },
    origin: stack.origin,
    url: (host, path) => stack.clientId(path, host),
    as,
    asUrl,
    mcpUrl,
  };
  clients = publishClients(system, HOSTS);
}, 90_000);

afterAll(async () => {
  await Promise.all(connected.map((c) => c.close()));
  await mcp?.stop();
  await as?.stop();
  await stack?.stop();
});

describe('an MCP client with a Client ID Metadata Document, on an oidc-provider AS that uses cimd-gateway', () => {
  let first: AuthorizedClient;

  it('1. discovers the AS, uses its URL as client_id without registering, authorizes with PKCE S256 through consent, and calls a tool (SPEC-NOTES 19-21, 24)', async () => {
    first = await connectWithClientIdMetadataDocument(system, clients.public.clientId);
    connected.push(first.client);
    const { recorder, metadata, authorizationUrl, consent, callback } = first;

    // Discovery: the MCP server's 401 pointed at its RFC 9728 metadata, which named the AS, whose
    // RFC 8414 metadata carries the gateway's members.
    expect(recorder.requests[0]).toMatchObject({ method: 'POST', url: system.mcpUrl, status: 401 });
    expect(recorder.to('/.well-known/oauth-protected-resource/mcp')[0]?.status).toBe(200);
    expect(recorder.to('/.well-known/oauth-authorization-server')[0]?.status).toBe(200);
    expect(metadata).toMatchObject({
      issuer: system.asUrl,
      client_id_metadata_document_supported: true,
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: expect.arrayContaining(['none', 'private_key_jwt']),
    });
    expect(metadata.registration_endpoint).toBeUndefined();

    // No dynamic registration: the only client information is the document's URL.
    expect(first.oauth.savedClientInformation.map((i) => ({ ...i, issuer: undefined }))).toEqual([
      { client_id: clients.public.clientId, issuer: undefined },
    ]);
    const posts = recorder.requests.filter((r) => r.method === 'POST').map((r) => new URL(r.url).pathname);
    expect(new Set(posts)).toEqual(new Set(['/mcp', '/token']));

    expect(Object.fromEntries(authorizationUrl.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: clients.public.clientId,
      redirect_uri: REDIRECT_URL,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      resource: system.mcpUrl,
    });

    // The consent page shows what the gateway's decision carries, the logo from the gateway.
    expect(consent).toMatchObject({
      clientName: 'Example MCP Client',
      clientHost: HOSTS.app,
      redirectHost: '127.0.0.1',
      trustLevel: 'unverified',
      logoUrl: expect.stringMatching(new RegExp(`^${PUBLIC_URL}/v1/logos/[0-9a-f]{64}$`)),
    });
    expect(consent.warnings).toEqual(
      expect.arrayContaining(['redirect_uris.loopback_only', 'client.first_seen_recently']),
    );
    const logo = await fetch(`${stack.url}${new URL(consent.logoUrl ?? '').pathname}`);
    expect([logo.status, logo.headers.get('content-type')]).toEqual([200, 'image/png']);
    // The browser may load the logo from the gateway only, never from the client's host.
    expect(consent.html).not.toContain(`${HOSTS.app}:${stack.origin.port}/logo.png`);
    expect(consent.contentSecurityPolicy).toContain(`img-src ${PUBLIC_URL};`);

    expect(callback.origin + callback.pathname).toBe(REDIRECT_URL);
    expect(callback.searchParams.get('iss')).toBe(system.asUrl);
    expect(first.tokens).toMatchObject({
      token_type: expect.stringMatching(/^bearer$/i),
      refresh_token: expect.any(String),
    });
    expect(first.toolText).toBe(`demo-user through ${clients.public.clientId}`);

    // The grant is a session at the gateway.
    expect(await system.gateway.checkSession(first.grantId)).toMatchObject({
      active: true,
      client_id: clients.public.clientId,
    });
  }, 60_000);

  it('2. a client whose document lists another redirect URI is refused at /authorize, on a page, never redirected (SPEC-NOTES 16, 31)', async () => {
    const { landing, authorizationUrl, decision } = await refusedWithoutRedirect(system, clients.mismatched.clientId);
    expect(authorizationUrl.searchParams.get('redirect_uri')).toBe(REDIRECT_URL);
    expect(landing).toMatchObject({ kind: 'page', status: 400, location: null });
    if (landing.kind === 'page') expect(landing.headers.get('content-security-policy')).toContain("img-src 'none'");
    if (landing.kind !== 'page') throw new Error('unreachable');
    expect(landing.url.pathname).toBe('/auth');
    expect(landing.html).toContain('data-error="invalid_request"');
    // Nothing on the page takes the user to the redirect URI.
    expect(landing.html).not.toMatch(/<a |<form |http-equiv/i);
    expect(decision).toMatchObject({ decision: 'deny', reason: 'redirect_uri.not_registered', redirect: false });
  }, 60_000);

  it('3. a confidential client gets its token only with a valid private_key_jwt assertion, checked by the gateway (SPEC-NOTES 26)', async () => {
    const outcome = await confidentialClient(system, clients.confidential);
    connected.push(outcome.authorized.client);
    expect(outcome.withoutAssertion).toBeInstanceOf(InvalidClientError);
    expect(outcome.withOtherKey).toBeInstanceOf(InvalidClientError);
    expect(outcome.authorized.toolText).toBe(`demo-user through ${clients.confidential.clientId}`);
    // The assertion's jti is spent fleet-wide: the same assertion again is refused.
    expect(outcome.replayed).toBeInstanceOf(InvalidClientError);
    // The AS's log lines arrive through a pipe, maybe after its answers.
    const refusals = await waitFor(() => {
      const lines = as.logs.filter(
        (l) =>
          l.msg === 'client authentication refused by the gateway' && l.client_id === clients.confidential.clientId,
      );
      return lines.length >= 3 && lines;
    }, 'the three refusals in the AS log');
    expect(refusals.map((l) => l.method)).toEqual(['private_key_jwt', 'private_key_jwt', 'private_key_jwt']);
    expect(refusals.every((l) => typeof l.reason === 'string')).toBe(true);
  }, 60_000);

  it('4. when the document is removed at its origin, the gateway confirms it gone, the AS revokes the grant: the next tool call gets 401 and a refresh fails (SPEC-NOTES 23)', async () => {
    const outcome = await documentRemoved(system, first, clients.public.path);
    expect(outcome.revoked).toMatchObject({ client_id: clients.public.clientId, reason: 'client.gone' });
    expect(outcome.session).toMatchObject({ active: false, reason: 'client.gone' });

    expect(outcome.toolCall).toBeInstanceOf(UnauthorizedError);
    expect(outcome.requests[0]).toMatchObject({ method: 'POST', url: system.mcpUrl, status: 401 });
    // The SDK tried its refresh token before giving up.
    const refreshes = outcome.requests.filter((r) => r.url === first.metadata.token_endpoint);
    expect(refreshes.length).toBeGreaterThan(0);
    expect(refreshes.every((r) => r.status >= 400 && r.status < 500)).toBe(true);
    expect(outcome.refresh).toBeInstanceOf(OAuthError);
  }, 60_000);

  it('5. a document change the tenant revokes on ends the grant while the client lives on: 401, and the refresh is an invalid grant (SPEC-NOTES 23)', async () => {
    const changing = await connectWithClientIdMetadataDocument(system, clients.changing.clientId);
    connected.push(changing.client);
    expect(changing.toolText).toBe(`demo-user through ${clients.changing.clientId}`);
    const outcome = await documentChanged(system, changing, clients.changing);
    expect(outcome.revoked).toMatchObject({
      client_id: clients.changing.clientId,
      reason: 'client.changed:redirect_uris_removed',
    });
    expect(outcome.session).toMatchObject({ active: false, reason: 'client.changed:redirect_uris_removed' });
    expect(outcome.toolCall).toBeInstanceOf(UnauthorizedError);
    expect(outcome.requests[0]).toMatchObject({ method: 'POST', url: system.mcpUrl, status: 401 });
    // The client is still valid at the gateway: only the revoked grant makes the refresh fail.
    expect(await system.gateway.getClient(clients.changing.clientId)).toMatchObject({ status: 'valid' });
    expect(outcome.refresh).toBeInstanceOf(InvalidGrantError);
  }, 60_000);
});
