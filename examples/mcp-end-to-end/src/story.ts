import type { CimdGateway, SessionStatus } from '@cimd/client';
import type { TestOrigin } from '@cimd/testing';
import { createPrivateKeyJwtAuth } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import {
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  refreshAuthorization,
  UnauthorizedError,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AuthorizationServerMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { generateKeyPairSync, JsonWebKey } from 'node:crypto';
import { Browser, ConsentPage, Landing, pageError, readConsentPage } from './browser';
import { MemoryOAuthClient } from './oauth-client';
import type { LogLine, ServiceProcess } from './processes';
import { FetchRecorder, Recorded } from './recorder';

/**
 * The story `npm run demo:mcp` tells and test/examples/mcp-end-to-end.test.ts checks: the MCP
 * SDK's own client against an MCP server protected by an oidc-provider AS that resolves
 * clients through cimd-gateway. Each step returns what happened; the test asserts it, the demo
 * prints it.
 */
export interface McpSystem {
  /** The tenant's view of the gateway (sessions). */
  gateway: CimdGateway;
  /** Make the gateway's fetcher look at a client now (the admin's refresh). */
  refreshClient(clientId: string): Promise<void>;
  origin: TestOrigin;
  /** `https://<host>:<origin port><path>` */
  url(host: string, path: string): string;
  as: ServiceProcess;
  asUrl: string;
  mcpUrl: string;
}

/** Where the MCP clients are sent back to: a loopback redirect (their documents list it without a port). */
export const REDIRECT_URL = 'http://127.0.0.1:53682/callback';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

export interface Clients {
  /** A public MCP client (token_endpoint_auth_method none). */
  public: { clientId: string; path: string };
  /** Another public client, whose document will change: `changed` is its next version. */
  changing: { clientId: string; path: string; changed: Record<string, unknown> };
  /** A client whose document lists another redirect URI than the one it uses. */
  mismatched: { clientId: string; path: string };
  /** A confidential client with private_key_jwt, its key in its document; `otherKey` is not. */
  confidential: { clientId: string; path: string; key: JsonWebKey; otherKey: JsonWebKey };
}

function es256Key(kid: string): { privateJwk: JsonWebKey; publicJwk: JsonWebKey } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' },
  };
}

/** The client metadata documents, published on their hosts (with a logo the gateway prefetches). */
export function publishClients(
  system: McpSystem,
  hosts: { app: string; other: string; confidential: string },
): Clients {
  const { origin } = system;
  const logo = system.url(hosts.app, '/logo.png');
  origin.route('/logo.png', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  const document = (clientId: string, extra: Record<string, unknown>) => ({
    client_id: clientId,
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  });
  const cache = { 'cache-control': 'max-age=300' };

  const app = system.url(hosts.app, '/oauth/mcp-client.json');
  origin.json('/oauth/mcp-client.json', document(app, { client_name: 'Example MCP Client', logo_uri: logo }), cache);

  const changing = system.url(hosts.app, '/oauth/changing-client.json');
  const before = document(changing, {
    client_name: 'Changing Client',
    redirect_uris: ['http://127.0.0.1/callback', system.url(hosts.app, '/callback')],
  });
  origin.json('/oauth/changing-client.json', before, cache);

  const other = system.url(hosts.other, '/oauth/other-client.json');
  const elsewhere = system.url(hosts.other, '/only-here');
  origin.json(
    '/oauth/other-client.json',
    document(other, { client_name: 'Other Client', redirect_uris: [elsewhere] }),
    cache,
  );

  const confidential = system.url(hosts.confidential, '/oauth/agent.json');
  const key = es256Key('agent-key-1');
  const origin2 = es256Key('not-in-the-document');
  origin.json(
    '/oauth/agent.json',
    document(confidential, {
      client_name: 'Confidential Agent',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [key.publicJwk] },
    }),
    cache,
  );
  return {
    public: { clientId: app, path: '/oauth/mcp-client.json' },
    // One redirect URI fewer: a change the tenant's policy revokes on by default.
    changing: {
      clientId: changing,
      path: '/oauth/changing-client.json',
      changed: { ...before, redirect_uris: ['http://127.0.0.1/callback'] },
    },
    mismatched: { clientId: other, path: '/oauth/other-client.json' },
    confidential: {
      clientId: confidential,
      path: '/oauth/agent.json',
      key: key.privateJwk,
      otherKey: origin2.privateJwk,
    },
  };
}

function mcpClient(): Client {
  return new Client({ name: 'cimd-gateway example MCP client', version: '1.0.0' });
}

async function whoami(client: Client): Promise<string> {
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  const first = (result.content as { type: string; text?: string }[])[0];
  return first?.text ?? '';
}

/** Connect as the SDK does the first time: it gets a 401, discovers, and sends the user to authorize. */
async function connectUntilAuthorization(system: McpSystem, oauth: MemoryOAuthClient, recorder: FetchRecorder) {
  const client = mcpClient();
  const transport = new StreamableHTTPClientTransport(new URL(system.mcpUrl), {
    authProvider: oauth,
    fetch: recorder.fetch,
  });
  try {
    await client.connect(transport);
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  const authorizationUrl = oauth.authorizationUrls.at(-1);
  if (!authorizationUrl) throw new Error('the MCP client was not sent to authorize');
  return { transport, authorizationUrl };
}

/** The user approves: the browser follows the AS to the consent page, approves, and lands on the redirect URI. */
async function approve(system: McpSystem, authorizationUrl: URL): Promise<{ consent: ConsentPage; callback: URL }> {
  const browser = new Browser(new URL(system.asUrl).origin);
  const landing = await browser.visit(authorizationUrl);
  if (landing.kind !== 'page' || landing.status !== 200)
    throw new Error(`expected the consent page, got ${describeLanding(landing)}`);
  const consent = readConsentPage(landing.html, landing.headers);
  const back = await browser.visit(new URL(consent.confirmPath, system.asUrl), {
    method: 'POST',
    form: new URLSearchParams(),
  });
  if (back.kind !== 'redirect') throw new Error(`expected to be sent back to the client, got ${describeLanding(back)}`);
  return { consent, callback: back.url };
}

export function describeLanding(landing: Landing): string {
  if (landing.kind === 'redirect') return `a redirect to ${landing.url.href}`;
  const to = landing.location ? ` to ${landing.location}` : '';
  return `HTTP ${landing.status} at ${landing.url.pathname}${to}: ${pageError(landing.html) ?? '(no error shown)'}`;
}

function codeOf(callback: URL): string {
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}: ${callback.searchParams.get('error') ?? ''}`);
  return code;
}

export interface AuthorizedClient {
  clientId: string;
  oauth: MemoryOAuthClient;
  recorder: FetchRecorder;
  client: Client;
  /** The AS's RFC 8414 metadata as the SDK discovered it. */
  metadata: AuthorizationServerMetadata;
  authorizationUrl: URL;
  consent: ConsentPage;
  callback: URL;
  tokens: OAuthTokens;
  toolText: string;
  /** The grant the AS saved, registered at the gateway as a session of this id. */
  grantId: string;
}

async function grantOf(system: McpSystem, clientId: string, after: number): Promise<string> {
  const line = await system.as.waitForLog(
    (l) => l.msg === 'grant saved and registered as a gateway session' && l.client_id === clientId,
    `the grant of ${clientId}`,
    { from: after },
  );
  return line.grant_id as string;
}

/**
 * 1. An MCP client with `clientMetadataUrl` meets the MCP server: 401, discovery (RFC 9728, then
 * the AS's RFC 8414 metadata, which says client_id_metadata_document_supported), its URL as
 * client_id without registering, authorization code with PKCE S256 through the consent page,
 * tokens, and a tool call.
 */
export async function connectWithClientIdMetadataDocument(
  system: McpSystem,
  clientId: string,
): Promise<AuthorizedClient> {
  const recorder = new FetchRecorder();
  const oauth = new MemoryOAuthClient(clientId, REDIRECT_URL);
  const { transport, authorizationUrl } = await connectUntilAuthorization(system, oauth, recorder);
  const logsBefore = system.as.logs.length;
  const { consent, callback } = await approve(system, authorizationUrl);
  await transport.finishAuth(codeOf(callback));
  const client = mcpClient();
  await client.connect(
    new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: oauth, fetch: recorder.fetch }),
  );
  const toolText = await whoami(client);
  const tokens = oauth.tokens();
  if (!tokens) throw new Error('no tokens were saved');
  return {
    clientId,
    oauth,
    recorder,
    client,
    metadata: await discoverAuthorizationServerMetadata(system.asUrl).then((m) => m as AuthorizationServerMetadata),
    authorizationUrl,
    consent,
    callback,
    tokens,
    toolText,
    grantId: await grantOf(system, clientId, logsBefore),
  };
}

export interface Refusal {
  authorizationUrl: URL;
  landing: Landing;
  /** The AS's log line of the gateway's decision. */
  decision: LogLine;
}

/** 2. A client whose document does not list the redirect URI it uses: an error page at /authorize, no redirect. */
export async function refusedWithoutRedirect(system: McpSystem, clientId: string): Promise<Refusal> {
  const oauth = new MemoryOAuthClient(clientId, REDIRECT_URL);
  const { authorizationUrl } = await connectUntilAuthorization(system, oauth, new FetchRecorder());
  const landing = await new Browser(new URL(system.asUrl).origin).visit(authorizationUrl);
  const decision = await system.as.waitForLog(
    (l) => l.msg === 'authorization request refused by the gateway' && l.client_id === clientId,
    'the refusal',
  );
  return { authorizationUrl, landing, decision };
}

export interface ConfidentialOutcome {
  /** The code exchanged as a public client would: no assertion. */
  withoutAssertion: unknown;
  /** The code exchanged with an assertion signed by a key the document does not list. */
  withOtherKey: unknown;
  authorized: AuthorizedClient;
  /** The successful assertion sent again (a refresh): its jti is spent. */
  replayed: unknown;
}

/** 3. A confidential client (private_key_jwt): its token only with a valid assertion, verified by the gateway. */
export async function confidentialClient(
  system: McpSystem,
  client: Clients['confidential'],
): Promise<ConfidentialOutcome> {
  const recorder = new FetchRecorder();
  const sign = (key: JsonWebKey) =>
    createPrivateKeyJwtAuth({
      issuer: client.clientId,
      subject: client.clientId,
      privateKey: key,
      alg: 'ES256',
    });
  const oauth = new MemoryOAuthClient(client.clientId, REDIRECT_URL, sign(client.key));
  const { transport, authorizationUrl } = await connectUntilAuthorization(system, oauth, recorder);
  const logsBefore = system.as.logs.length;
  const { consent, callback } = await approve(system, authorizationUrl);
  const code = codeOf(callback);
  const metadata = (await discoverAuthorizationServerMetadata(system.asUrl)) as AuthorizationServerMetadata;
  const exchange = (addClientAuthentication?: ReturnType<typeof sign>) =>
    exchangeAuthorization(system.asUrl, {
      metadata,
      clientInformation: { client_id: client.clientId },
      authorizationCode: code,
      codeVerifier: oauth.codeVerifier(),
      redirectUri: REDIRECT_URL,
      resource: new URL(system.mcpUrl),
      ...(addClientAuthentication ? { addClientAuthentication } : {}),
      fetchFn: recorder.fetch,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
  const withoutAssertion = await exchange();
  const withOtherKey = await exchange(sign(client.otherKey));

  await transport.finishAuth(code);
  const mcp = mcpClient();
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: oauth, fetch: recorder.fetch }),
  );
  const toolText = await whoami(mcp);
  const tokens = oauth.tokens();
  if (!tokens?.refresh_token) throw new Error('no refresh token was saved');

  // The assertion that worked, sent again with a refresh: the gateway has seen its jti.
  const accepted = recorder.to(new URL(metadata.token_endpoint).pathname).find((r) => r.status === 200);
  const assertion = accepted?.form?.get('client_assertion');
  if (!assertion) throw new Error('no accepted assertion was recorded');
  const replayed = await refreshAuthorization(system.asUrl, {
    metadata,
    clientInformation: { client_id: client.clientId },
    refreshToken: tokens.refresh_token,
    addClientAuthentication: (_headers, params) => {
      params.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      params.set('client_assertion', assertion);
    },
    fetchFn: recorder.fetch,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  return {
    withoutAssertion,
    withOtherKey,
    replayed,
    authorized: {
      clientId: client.clientId,
      oauth,
      recorder,
      client: mcp,
      metadata,
      authorizationUrl,
      consent,
      callback,
      tokens,
      toolText,
      grantId: await grantOf(system, client.clientId, logsBefore),
    },
  };
}

/** What follows once the gateway ends a grant's session because its client's document went or changed. */
export interface RevocationOutcome {
  /** The AS's log line: it revoked the grant with its tokens. */
  revoked: LogLine;
  /** The grant's session at the gateway. */
  session: SessionStatus;
  /** What the MCP client's next tool call came to (an error: it is no longer authorized). */
  toolCall: unknown;
  /** Requests that tool call made: the MCP server's 401, the refresh the SDK tried. */
  requests: Recorded[];
  /** A refresh with the refresh token the client held. */
  refresh: unknown;
}

/** 4. The document is removed at the origin: once the gateway confirms it gone, the AS revokes the grant. */
export async function documentRemoved(
  system: McpSystem,
  authorized: AuthorizedClient,
  path: string,
): Promise<RevocationOutcome> {
  system.origin.route(path, (_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('gone'));
  return grantRevoked(system, authorized);
}

/**
 * 5. The document changes in a way the tenant revokes on (a redirect URI removed): the client
 * still exists, but its sessions end, and with them the AS's grant: what fails now fails only
 * because the grant was revoked (the refresh: the client still exists, its grant does not).
 */
export async function documentChanged(
  system: McpSystem,
  authorized: AuthorizedClient,
  client: Clients['changing'],
): Promise<RevocationOutcome> {
  system.origin.json(client.path, client.changed, { 'cache-control': 'max-age=300' });
  return grantRevoked(system, authorized);
}

/**
 * After the client's document changed at its origin: the gateway fetches it again, the AS
 * revokes the grant when the gateway ends its session, and the client's next tool call and a
 * refresh with its refresh token are tried.
 */
async function grantRevoked(system: McpSystem, authorized: AuthorizedClient): Promise<RevocationOutcome> {
  await system.refreshClient(authorized.clientId);
  const revoked = await system.as.waitForLog(
    (l) =>
      l.msg === 'grant revoked with its tokens: the gateway ended its session' && l.grant_id === authorized.grantId,
    'the grant to be revoked',
    { ms: 30_000 },
  );
  const session = await system.gateway.checkSession(authorized.grantId);
  const before = authorized.recorder.requests.length;
  const toolCall = await whoami(authorized.client).then(
    (text) => text,
    (e: unknown) => e,
  );
  const requests = authorized.recorder.requests.slice(before);
  const refreshToken = authorized.tokens.refresh_token;
  const refresh =
    refreshToken === undefined
      ? new Error('the client held no refresh token')
      : await refreshAuthorization(system.asUrl, {
          metadata: authorized.metadata,
          clientInformation: { client_id: authorized.clientId },
          refreshToken,
          resource: new URL(system.mcpUrl),
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
  return { revoked, session, toolCall, requests, refresh };
}
