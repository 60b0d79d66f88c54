import { parseTenantPolicy, decideAuthorization, RuleCode, validateMetadataDocument } from '@cimd/core';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every real-world document in test/fixtures/real-world (copied unmodified from
 * ../shared/corpus/real-world; provenance in its SOURCES.md) with the verdict our rules give:
 * the client_id URL rules on its own client_id, then the document rules against that URL,
 * which is what the fetcher does when it fetches the document from there.
 */
const CORPUS = join(__dirname, 'fixtures', 'real-world');

interface Verdict {
  errors: RuleCode[];
  /** Warnings that must be among those reported (others may be too). */
  warnings?: RuleCode[];
}

const VERDICTS: Record<string, Verdict> = {
  // --- valid ---
  // Public atproto native app; https + reverse-domain private-use scheme of its own host.
  'BrettM86__coves__static_client-metadata.json': { errors: [] },
  // Solid-OIDC: JSON-LD @context is an unknown property (SPEC-NOTES 13); auth method absent → "none".
  'NoelDeMartin__umai__clientid.jsonld.json': { errors: [], warnings: ['document.auth_method_absent'] },
  // "Rabbit Agent" rebrand: consistent in itself; all 10 redirects are loopback (SPEC-NOTES 20), half via localhost.
  'NousResearch__hermes-agent__website_static_oauth_client-metadata.json': {
    errors: [],
    warnings: ['redirect_uris.loopback_only', 'redirect_uri.localhost', 'client_uri.cross_origin'],
  },
  // Only redirect is io.github.rietamura:, the reverse of rietamura.github.io; non-ASCII name is fine.
  'RieTamura__kumotan-pages__oauth-client-metadata.json': { errors: [] },
  // Long granular scope with ?, &, %: all NQCHAR (RFC 6749 §3.3).
  'Shikibashi__social-app__public_oauth-client-metadata.json': { errors: [] },
  // atproto docs example; no application_type (defaults to web).
  'bluesky-social__atproto-website__src_app_[locale]_guides_permission-sets_en.mdx.json': { errors: [] },
  // Portless loopback redirect only.
  'bluesky-social__cookbook__go-oauth-cli-app_client_metadata.json': {
    errors: [],
    warnings: ['redirect_uris.loopback_only'],
  },
  // Upper-case host EXAMPLE.COM: legal, matched exactly, warned as not normalized; COM.EXAMPLE: scheme is its reverse.
  'bluesky-social__cookbook__oauth-react-native-expo_assets_oauth-client-metadata.json': {
    errors: [],
    warnings: ['client_id.not_normalized'],
  },
  'cheeaun__phanpy__public_oauth-client-metadata.json': { errors: [] },
  // Mix of portless and ported loopback redirects, localhost and 127.0.0.1.
  'genonai__oneagent-mcp-metadata__client-metadata.json': {
    errors: [],
    warnings: ['redirect_uris.loopback_only', 'redirect_uri.localhost', 'client_uri.cross_origin'],
  },
  'iameli__big-replay__oauth-client-metadata.json': { errors: [] },
  'integry__mcptest__public_oauth_client-metadata.json': { errors: [] },
  // IndieAuth minimal documents: no auth method, grants or response types; defaults apply.
  'jackdbd__sfscon-2024-indieweb__slides_indieauth-requires-no-client-registration.md.json': {
    errors: [],
    warnings: ['document.auth_method_absent'],
  },
  'jackdbd__sfscon-2024-indieweb__slides_indielogin.md.json': {
    errors: [],
    warnings: ['document.auth_method_absent'],
  },
  // ngrok host; client_id_issued_at is a registration-response field, tolerated (SPEC-NOTES 13).
  'joshlacal__Petrel__oauth-client-metadata.json': { errors: [] },
  // Four 127.0.0.1 loopback ports on raw.githubusercontent.com.
  'lvndry__jazz__oauth-client-metadata.json': {
    errors: [],
    warnings: ['redirect_uris.loopback_only', 'client_uri.cross_origin'],
  },
  'mary-ext__aglais__public_oauth_client-metadata.json': { errors: [] },
  'mcpmini__mini__oauth_client-metadata.json': {
    errors: [],
    warnings: ['redirect_uris.loopback_only', 'client_uri.cross_origin'],
  },
  // The MCP specification's own example: 127.0.0.1 and localhost on port 3000.
  'modelcontextprotocol__modelcontextprotocol__docs_specification_2025-11-25_basic_authorization.mdx.json': {
    errors: [],
    warnings: ['redirect_uris.loopback_only', 'redirect_uri.localhost'],
  },
  // Official MCP Rust SDK example: no client_name, which MCP requires (SPEC-NOTES 12): a warning here,
  // a denial for tenants with require_client_name.
  'modelcontextprotocol__rust-sdk__client-metadata.json': {
    errors: [],
    warnings: ['document.client_name_missing', 'redirect_uris.loopback_only'],
  },
  // Scope without "atproto" would fail at an atproto AS, but is a well-formed scope here.
  'notjuliet__cleanfollow-bsky__client-metadata.json': { errors: [] },
  'notjuliet__pdsls__public_oauth-client-metadata.json': { errors: [] },
  // https://localhost redirects on fixed ports (not http loopback); no auth method.
  'smlx__crush__oauth-client-metadata.json': {
    errors: [],
    warnings: ['document.auth_method_absent', 'redirect_uri.localhost', 'client_uri.cross_origin'],
  },
  // Pod-hosted client_id with redirects on https://localhost:3000.
  'solid__pod-browser__clientid.jsonld.json': { errors: [], warnings: ['redirect_uri.localhost'] },
  // Confidential: private_key_jwt + jwks_uri.
  'spuithori__tokimekibluesky__static_client-metadata.json': { errors: [] },
  'stytchauth__client.dev__public_oauth_client-metadata.json': { errors: [] },
  // ChatGPT: private_key_jwt + jwks_uri; token_endpoint_auth_methods_supported is tolerated.
  'web__chatgpt.com__oauth_client.json': { errors: [] },
  // Codex CLI: portless loopback, one via localhost.
  'web__chatgpt.com__oauth_codex_client.json': {
    errors: [],
    warnings: ['redirect_uris.loopback_only', 'redirect_uri.localhost'],
  },
  // Per-connector ChatGPT document without grant or response types: defaults apply.
  'web__chatgpt.com__oauth_j0wKlDBsmsUM_client.json': { errors: [] },
  // Claude Code: portless loopback redirects; the port of the request is not compared (SPEC-NOTES 16).
  'web__claude.ai__oauth_claude-code-client-metadata.json': {
    errors: [],
    warnings: ['redirect_uris.loopback_only', 'redirect_uri.localhost'],
  },
  // Claude connectors: one https redirect on claude.ai; jwt-bearer grant listed.
  'web__claude.ai__oauth_mcp-oauth-client-metadata.json': { errors: [] },
  // VS Code: https redirect plus a 127.0.0.1 loopback with a trailing slash.
  'web__vscode.dev__oauth_client-metadata.json': { errors: [] },
  // goose: portless IPv4 and IPv6 loopback.
  'zuyua9__goose__oauth_client-metadata.json': { errors: [], warnings: ['redirect_uris.loopback_only'] },

  // --- invalid ---
  // Template: private_key_jwt with neither jwks nor jwks_uri (SPEC-NOTES 11).
  'bluesky-social__cookbook__vanillajs-oauth-web-app_oauth-client-metadata.example.json': {
    errors: ['document.keys_missing'],
  },
  // Private-use scheme "catbird:" has no period (SPEC-NOTES 17, RFC 8252 §7.1).
  'joshlacal__catbird-oauth__client-metadata.json': { errors: ['redirect_uri.private_scheme_without_period'] },
  // "http://localhost:*/callback": a wildcard port is not an exact-match URI (SPEC-NOTES 16).
  'linuxfoundation__lfx-cli__client-metadata.json': { errors: ['redirect_uri.wildcard'] },
  // redirect_uris and response_types are strings, not arrays; jwks is a bare array (SPEC-NOTES 11, 12).
  'mattmassicotte__Multipass__client-metadata.json': {
    errors: ['document.invalid_field_type', 'document.invalid_field_type', 'document.jwks_malformed'],
  },
  // Unreplaced %BASE_URL% placeholders: client_id and redirect are not absolute URLs (SPEC-NOTES 1, 17).
  'solidcouch__solidcouch__public_clientid.jsonld.json': {
    errors: ['client_id.not_absolute', 'redirect_uri.not_absolute', 'client_uri.invalid', 'logo_uri.invalid'],
  },
};

function load(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(CORPUS, file), 'utf8')) as Record<string, unknown>;
}

describe('real-world corpus', () => {
  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.json'));

  it('has a recorded verdict for every document, and no verdict for a missing one', () => {
    expect(files.sort()).toEqual(Object.keys(VERDICTS).sort());
    expect(files).toHaveLength(38);
  });

  it.each(Object.entries(VERDICTS))('%s', (file, verdict) => {
    const doc = load(file);
    const result = validateMetadataDocument(doc);
    expect(result.errors.map((e) => e.code)).toEqual(verdict.errors);
    expect(result.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(verdict.warnings ?? []));
    if (verdict.errors.length === 0) {
      expect(result.warnings.map((w) => w.code).filter((c) => !(verdict.warnings ?? []).includes(c))).toEqual([]);
    }
  });

  // Accepting a valid document means an authorization request to any of its redirect URIs is
  // allowed, at a tenant that checks client assertions (issuer and token endpoint set).
  const assertingTenant = parseTenantPolicy({
    issuer: 'https://as.example',
    token_endpoint: 'https://as.example/token',
  });
  it.each(Object.entries(VERDICTS).filter(([, v]) => v.errors.length === 0))(
    '%s: every registered redirect URI is accepted in an authorization request',
    (file) => {
      const doc = load(file);
      const clientId = doc.client_id as string;
      const document = validateMetadataDocument(doc, { clientId });
      for (const redirect_uri of doc.redirect_uris as string[]) {
        const d = decideAuthorization({
          request: { client_id: clientId, redirect_uri, code_challenge_method: 'S256' },
          document,
          policy: assertingTenant.ok ? assertingTenant.policy : undefined,
        });
        expect(d).toMatchObject({ decision: 'allow' });
      }
    },
  );

  // SPEC-NOTES 26: at a tenant that does not check assertions, a client that offers only
  // private_key_jwt is refused with the reason to fix; ChatGPT's, which offers none too, is public.
  it.each([
    ['web__chatgpt.com__oauth_client.json', { decision: 'allow' }],
    ['web__chatgpt.com__oauth_j0wKlDBsmsUM_client.json', { decision: 'allow' }],
    ['stytchauth__client.dev__public_oauth_client-metadata.json', { reason: 'client_auth.tenant_not_configured' }],
    ['spuithori__tokimekibluesky__static_client-metadata.json', { reason: 'client_auth.tenant_not_configured' }],
  ])('%s at a tenant without issuer and token_endpoint', (file, expected) => {
    const doc = load(file);
    const clientId = doc.client_id as string;
    const d = decideAuthorization({
      request: {
        client_id: clientId,
        redirect_uri: (doc.redirect_uris as string[])[0] ?? '',
        code_challenge_method: 'S256',
      },
      document: validateMetadataDocument(doc, { clientId }),
    });
    expect(d).toMatchObject(expected);
  });
});
