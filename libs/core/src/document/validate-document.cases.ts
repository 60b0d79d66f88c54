import type { RuleCode } from '../findings';

export const CLIENT_ID = 'https://app.example.com/oauth/client.json';

/** A complete, valid public client. Rows below change one thing at a time. */
export const BASE_DOCUMENT = {
  client_id: CLIENT_ID,
  client_name: 'Example App',
  client_uri: 'https://app.example.com/',
  logo_uri: 'https://cdn.example.net/logo.png',
  redirect_uris: ['https://app.example.com/callback', 'http://127.0.0.1/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};

/** `undefined` in `change` removes the field. */
export function variant(change: Record<string, unknown>): Record<string, unknown> {
  const doc: Record<string, unknown> = { ...BASE_DOCUMENT, ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete doc[k];
  return doc;
}

const PUBLIC_EC_KEY = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};

/** One row per document rule (SPEC-NOTES 9-13, and 16-19 for fields of the document). */
export interface DocumentCase {
  rule: string;
  name: string;
  document: unknown;
  /** URL the document was fetched from; CLIENT_ID unless set, none when null (lint mode). */
  clientId?: string | null;
  errors: RuleCode[];
  warnings?: RuleCode[];
}

export const DOCUMENT_CASES: DocumentCase[] = [
  { rule: '9', name: 'the base document is valid', document: BASE_DOCUMENT, errors: [] },
  { rule: '9', name: 'not an object: array', document: [BASE_DOCUMENT], errors: ['document.not_object'] },
  {
    rule: '9',
    name: 'not an object: string',
    document: 'https://app.example.com/oauth/client.json',
    errors: ['document.not_object'],
  },
  { rule: '9', name: 'not an object: null', document: null, errors: ['document.not_object'] },
  {
    rule: '9',
    name: 'client_id missing',
    document: variant({ client_id: undefined }),
    errors: ['document.client_id_missing'],
  },
  {
    rule: '9',
    name: 'client_id of another URL (impersonation)',
    document: variant({ client_id: 'https://trusted.example/oauth/client.json' }),
    errors: ['document.client_id_mismatch'],
  },
  {
    rule: '9',
    name: 'client_id differs only in case: no case folding',
    document: variant({ client_id: 'https://APP.example.com/oauth/client.json' }),
    errors: ['document.client_id_mismatch'],
  },
  {
    rule: '9',
    name: 'client_id differs only in path case',
    document: variant({ client_id: 'https://app.example.com/OAuth/client.json' }),
    errors: ['document.client_id_mismatch'],
  },
  {
    rule: '9',
    name: 'client_id with a trailing slash: no tolerance',
    document: variant({ client_id: `${CLIENT_ID}/` }),
    errors: ['document.client_id_mismatch'],
  },
  {
    rule: '9',
    name: 'client_id with the default port written out',
    document: variant({ client_id: 'https://app.example.com:443/oauth/client.json' }),
    errors: ['document.client_id_mismatch'],
  },
  {
    rule: '9',
    name: 'client_id not a string',
    document: variant({ client_id: 7 }),
    errors: ['document.invalid_field_type'],
  },
  {
    rule: '1',
    name: "lint mode: the document's own client_id must follow the URL rules",
    document: variant({ client_id: 'https://app.example.com/a/../client.json' }),
    clientId: null,
    errors: ['client_id.dot_segment'],
  },
  {
    rule: '1',
    name: 'lint mode: a valid client_id checks the rest against its host',
    document: BASE_DOCUMENT,
    clientId: null,
    errors: [],
  },
  {
    rule: '10',
    name: 'client_secret_basic',
    document: variant({ token_endpoint_auth_method: 'client_secret_basic' }),
    errors: ['document.shared_secret_auth'],
  },
  {
    rule: '10',
    name: 'client_secret_post',
    document: variant({ token_endpoint_auth_method: 'client_secret_post' }),
    errors: ['document.shared_secret_auth'],
  },
  {
    rule: '10',
    name: 'client_secret_jwt',
    document: variant({ token_endpoint_auth_method: 'client_secret_jwt' }),
    errors: ['document.shared_secret_auth'],
  },
  {
    rule: '10',
    name: 'any method named after a secret',
    document: variant({ token_endpoint_auth_method: 'client_secret_custom' }),
    errors: ['document.shared_secret_auth'],
  },
  {
    rule: '10',
    name: 'unknown method: refused rather than guessed',
    document: variant({ token_endpoint_auth_method: 'magic_link' }),
    errors: ['document.unsupported_auth_method'],
  },
  {
    rule: '10',
    name: 'client_secret present',
    document: variant({ client_secret: 's3cr3t' }),
    errors: ['document.client_secret_present'],
  },
  {
    rule: '10',
    name: 'client_secret_expires_at present',
    document: variant({ client_secret_expires_at: 0 }),
    errors: ['document.client_secret_present'],
  },
  {
    rule: '10',
    name: 'absent auth method: read as none, with a warning',
    document: variant({ token_endpoint_auth_method: undefined }),
    errors: [],
    warnings: ['document.auth_method_absent'],
  },
  {
    rule: '10',
    name: 'HMAC signing algorithm needs a shared secret',
    document: variant({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://app.example.com/jwks.json',
      token_endpoint_auth_signing_alg: 'HS256',
    }),
    errors: ['document.shared_secret_signing_alg'],
  },
  {
    rule: '11',
    name: 'private_key_jwt with jwks_uri',
    document: variant({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json' }),
    errors: [],
  },
  {
    rule: '11',
    name: 'private_key_jwt with inline public keys',
    document: variant({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [PUBLIC_EC_KEY] } }),
    errors: [],
  },
  {
    rule: '11',
    name: 'private_key_jwt without keys',
    document: variant({ token_endpoint_auth_method: 'private_key_jwt' }),
    errors: ['document.keys_missing'],
  },
  {
    rule: '11',
    name: 'private_key_jwt with an empty key set',
    document: variant({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } }),
    errors: ['document.keys_missing'],
  },
  {
    rule: '11',
    name: 'self_signed_tls_client_auth without keys',
    document: variant({ token_endpoint_auth_method: 'self_signed_tls_client_auth' }),
    errors: ['document.keys_missing'],
  },
  {
    rule: '11',
    name: 'both jwks and jwks_uri',
    document: variant({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [PUBLIC_EC_KEY] },
      jwks_uri: 'https://app.example.com/jwks.json',
    }),
    errors: ['document.jwks_and_jwks_uri'],
  },
  {
    rule: '11',
    name: 'jwks as a bare array',
    document: variant({ token_endpoint_auth_method: 'private_key_jwt', jwks: [PUBLIC_EC_KEY] }),
    errors: ['document.jwks_malformed'],
  },
  {
    rule: '11',
    name: 'jwks key without kty',
    document: variant({ jwks: { keys: [{ crv: 'P-256' }] } }),
    errors: ['document.jwks_malformed'],
  },
  {
    rule: '11',
    name: 'private key in jwks',
    document: variant({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...PUBLIC_EC_KEY, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }] },
    }),
    errors: ['document.jwks_private_key'],
  },
  {
    rule: '11',
    name: 'symmetric key in jwks',
    document: variant({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
    }),
    errors: ['document.jwks_private_key'],
  },
  {
    rule: '11',
    name: 'jwks_uri over http',
    document: variant({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://app.example.com/jwks.json' }),
    errors: ['jwks_uri.invalid'],
  },
  {
    rule: '12',
    name: 'redirect_uris missing',
    document: variant({ redirect_uris: undefined }),
    errors: ['document.redirect_uris_missing'],
  },
  {
    rule: '12',
    name: 'redirect_uris empty',
    document: variant({ redirect_uris: [] }),
    errors: ['document.redirect_uris_empty'],
  },
  {
    rule: '12',
    name: 'redirect_uris as a string',
    document: variant({ redirect_uris: 'https://app.example.com/callback' }),
    errors: ['document.invalid_field_type'],
  },
  {
    rule: '12',
    name: 'redirect_uris with a non-string item',
    document: variant({ redirect_uris: ['https://app.example.com/callback', 3] }),
    errors: ['document.invalid_field_type'],
  },
  {
    rule: '12',
    name: 'client_name missing: warned (policy may require it)',
    document: variant({ client_name: undefined }),
    errors: [],
    warnings: ['document.client_name_missing'],
  },
  {
    rule: '19',
    name: 'client_name blank',
    document: variant({ client_name: '   ' }),
    errors: ['document.client_name_invalid'],
  },
  {
    rule: '19',
    name: 'client_name with a bidi override',
    document: variant({ client_name: 'Safe \u202eelgooG' }),
    errors: ['document.client_name_invalid'],
  },
  {
    rule: '19',
    name: 'client_name with a control character',
    document: variant({ client_name: 'App\u0007' }),
    errors: ['document.client_name_invalid'],
  },
  {
    rule: '19',
    name: 'client_name too long',
    document: variant({ client_name: 'x'.repeat(201) }),
    errors: ['document.client_name_invalid'],
  },
  {
    rule: '19',
    name: 'client_name in Japanese is fine',
    document: variant({ client_name: 'くもたん (Kumotan)' }),
    errors: [],
  },
  {
    rule: '13',
    name: 'unknown properties are tolerated',
    document: variant({ token_endpoint_auth_methods_supported: ['none'], '@context': 'x', client_id_issued_at: 1 }),
    errors: [],
  },
  {
    rule: '13',
    name: 'grant_types not an array',
    document: variant({ grant_types: 'authorization_code' }),
    errors: ['document.invalid_field_type'],
  },
  {
    rule: '13',
    name: 'dpop_bound_access_tokens not a boolean',
    document: variant({ dpop_bound_access_tokens: 'yes' }),
    errors: ['document.invalid_field_type'],
  },
  {
    rule: '13',
    name: 'a known field set to null',
    document: variant({ client_uri: null }),
    errors: ['document.invalid_field_type'],
  },
  {
    rule: '13',
    name: 'application_type not web or native',
    document: variant({ application_type: 'desktop' }),
    errors: ['document.application_type_invalid'],
  },
  {
    rule: '13',
    name: 'scope with a double space',
    document: variant({ scope: 'openid  profile' }),
    errors: ['document.scope_invalid'],
  },
  {
    rule: '13',
    name: 'scope with a backslash',
    document: variant({ scope: 'read\\write' }),
    errors: ['document.scope_invalid'],
  },
  {
    rule: '13',
    name: 'granular atproto scope is well-formed',
    document: variant({
      scope: 'atproto repo:app.bsky.feed.post?action=create rpc?lxm=*&aud=did%3Aweb%3Aapi.bsky.app%23bsky_appview',
    }),
    errors: [],
  },
  {
    rule: '13',
    name: 'implicit response type: warned',
    document: variant({ response_types: ['code', 'token'] }),
    errors: [],
    warnings: ['document.implicit_response_type'],
  },
  {
    rule: '13',
    name: 'code without the authorization_code grant',
    document: variant({ grant_types: ['refresh_token'] }),
    errors: [],
    warnings: ['document.grant_response_mismatch'],
  },
  {
    rule: '13',
    name: 'authorization_code grant without the code response',
    document: variant({ response_types: ['id_token'] }),
    errors: [],
    warnings: ['document.grant_response_mismatch'],
  },
  {
    rule: '19',
    name: 'client_uri not https',
    document: variant({ client_uri: 'http://app.example.com/' }),
    errors: ['client_uri.invalid'],
  },
  {
    rule: '19',
    name: 'client_uri as javascript:',
    document: variant({ client_uri: 'javascript:alert(1)' }),
    errors: ['client_uri.invalid'],
  },
  { rule: '21', name: 'logo_uri not a URL', document: variant({ logo_uri: 'logo.png' }), errors: ['logo_uri.invalid'] },
  {
    rule: '19',
    name: 'tos_uri with credentials',
    document: variant({ tos_uri: 'https://u:p@app.example.com/tos' }),
    errors: ['tos_uri.invalid'],
  },
  {
    rule: '19',
    name: 'policy_uri not https',
    document: variant({ policy_uri: 'ftp://app.example.com/privacy' }),
    errors: ['policy_uri.invalid'],
  },
  {
    rule: '18',
    name: 'client_uri on another host: warned',
    document: variant({ client_uri: 'https://github.com/example/app' }),
    errors: [],
    warnings: ['client_uri.cross_origin'],
  },
  {
    rule: '17',
    name: 'a bad redirect URI fails the document',
    document: variant({ redirect_uris: ['https://app.example.com/callback', 'myapp://cb'] }),
    errors: ['redirect_uri.private_scheme_without_period'],
  },
  {
    rule: '16',
    name: 'a duplicate redirect URI is warned',
    document: variant({ redirect_uris: ['https://app.example.com/callback', 'https://app.example.com/callback'] }),
    errors: [],
    warnings: ['document.redirect_uris_duplicate'],
  },
  {
    rule: '20',
    name: 'only loopback redirect URIs: warned',
    document: variant({ redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback'] }),
    errors: [],
    warnings: ['redirect_uris.loopback_only'],
  },
  {
    rule: '18',
    name: 'redirect URI on another host: warned',
    document: variant({ redirect_uris: ['https://other.example/callback'] }),
    errors: [],
    warnings: ['redirect_uri.cross_origin'],
  },
  {
    rule: '9-13',
    name: 'every problem is reported, not only the first',
    document: variant({
      client_id: 'https://evil.example/x',
      client_secret: 'x',
      redirect_uris: ['http://evil.example/cb'],
      grant_types: 3,
    }),
    errors: [
      'document.invalid_field_type',
      'document.client_id_mismatch',
      'document.client_secret_present',
      'redirect_uri.http_not_loopback',
    ],
  },
  {
    rule: '28',
    name: 'no redirect_uris for a client that uses only client_credentials',
    document: variant({ redirect_uris: undefined, grant_types: ['client_credentials'], response_types: [] }),
    errors: [],
  },
  {
    rule: '28',
    name: 'no redirect_uris while the default authorization_code grant applies',
    document: variant({ redirect_uris: undefined, grant_types: undefined }),
    errors: ['document.redirect_uris_missing'],
  },
  {
    rule: '29',
    name: 'a software_statement is ignored, and said to be',
    document: variant({ software_statement: 'eyJhbGciOiJub25lIn0.eyJjbGllbnRfbmFtZSI6Ik1hbGxvcnkifQ.' }),
    errors: [],
    warnings: ['document.software_statement_ignored'],
  },
  {
    rule: '26',
    name: 'token_endpoint_auth_methods_supported with a shared secret and a keyless private_key_jwt',
    document: variant({ token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'private_key_jwt'] }),
    errors: [],
    warnings: ['document.auth_methods_supported_invalid'],
  },
  {
    rule: '26',
    name: 'two inline keys with one kid',
    document: variant({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: {
        keys: [
          { ...PUBLIC_EC_KEY, kid: 'k1' },
          { ...PUBLIC_EC_KEY, kid: 'k1' },
        ],
      },
    }),
    errors: ['keys.duplicate_kid'],
  },
  {
    rule: '26',
    name: 'an inline key on a curve not accepted, beside a good one',
    document: variant({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA' }, PUBLIC_EC_KEY] },
    }),
    errors: [],
    warnings: ['keys.unsupported_key'],
  },
  {
    rule: '26',
    name: 'inline keys none of which can verify an assertion',
    document: variant({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...PUBLIC_EC_KEY, use: 'enc' }] },
    }),
    errors: ['keys.empty'],
    warnings: ['keys.unsupported_key'],
  },
  {
    rule: '27',
    name: 'a jwks_uri the fetcher would never fetch (a dot segment)',
    document: variant({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://app.example.com/a/../jwks.json',
    }),
    errors: ['jwks_uri.invalid'],
  },
];
