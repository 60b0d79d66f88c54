/** A public JSON Web Key as it appears in `jwks.keys` (RFC 7517). */
export interface PublicJwk {
  kty: string;
  [member: string]: unknown;
}

/**
 * A Client ID Metadata Document after validation: the RFC 7591 fields this service uses,
 * with defaults filled in. Unknown properties of the published document are tolerated
 * (SPEC-NOTES 13) but not carried, so every consumer sees one shape.
 */
export interface MetadataDocument {
  client_id: string;
  /** Empty when the client uses only grants without a redirect (SPEC-NOTES 28). */
  redirect_uris: string[];
  /**
   * Never absent here. A published document that omits it is read as `none` (a public
   * client): the RFC 7591 default, `client_secret_basic`, is a shared secret, which a
   * metadata document can never hold (SPEC-NOTES 10), and real public clients omit it.
   */
  token_endpoint_auth_method: string;
  /**
   * The methods the client offers, when its document lists them (a member the working group is
   * adding to client metadata, named like RFC 8414's): only usable ones are kept. Absent: the
   * client offers its `token_endpoint_auth_method` alone.
   */
  token_endpoint_auth_methods_supported?: string[];
  grant_types: string[];
  response_types: string[];
  application_type: 'web' | 'native';
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  scope?: string;
  jwks_uri?: string;
  jwks?: { keys: PublicJwk[] };
  token_endpoint_auth_signing_alg?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
  dpop_bound_access_tokens?: boolean;
}

/** Auth methods that prove possession of a key rather than knowledge of a shared secret. */
export const ACCEPTED_AUTH_METHODS: readonly string[] = [
  'none',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];

/** Shared-secret methods a metadata document may never use (draft §4.1; SPEC-NOTES 10). */
export const SHARED_SECRET_AUTH_METHODS: readonly string[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
];

/** Methods that authenticate with a key the document must publish (jwks or jwks_uri). */
export const KEY_AUTH_METHODS: readonly string[] = ['private_key_jwt', 'self_signed_tls_client_auth'];

export const DEFAULT_GRANT_TYPES: readonly string[] = ['authorization_code'];
/** Grants whose flow sends the user back to a redirect URI; a client using none of them needs no redirect_uris. */
export const REDIRECT_GRANT_TYPES: readonly string[] = ['authorization_code', 'implicit'];
export const DEFAULT_RESPONSE_TYPES: readonly string[] = ['code'];

/** Largest document the fetcher accepts by default (draft §8.7 recommends 5 KB; SPEC-NOTES 6). */
export const DEFAULT_MAX_DOCUMENT_BYTES = 5120;
