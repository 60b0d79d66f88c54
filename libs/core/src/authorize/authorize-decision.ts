import { checkClientIdUrl, ClientIdUrlCheck } from '../client-id/client-id-url';
import { idnHostForms } from '../client-id/idn-host';
import { DocumentCheck } from '../document/validate-document';
import { Finding, quote, RuleCode } from '../findings';
import { authMethodsFor } from '../client-auth/auth-methods';
import { REDIRECT_GRANT_TYPES } from '../document/metadata-document';
import { DEFAULT_TENANT_POLICY, evaluateClientIdPolicy, TenantPolicy } from '../policy/tenant-policy';
import { matchRegisteredRedirectUri, RedirectTarget, redirectTargetOf } from '../redirect-uri/redirect-uri';
import { splitUri } from '../uri/uri-parts';

/** The parameters of an authorization request that the decision depends on. */
export interface AuthorizeRequest {
  client_id: string;
  redirect_uri: string;
  /** Defaults to "code". */
  response_type?: string;
  scope?: string;
  code_challenge_method?: string;
}

/** OAuth 2.0 authorization error codes (RFC 6749 §4.1.2.1) the decision can give. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'temporarily_unavailable';

export type TrustLevel = 'trusted' | 'verified_origin' | 'unverified';

/** What a consent screen shows (SPEC-NOTES 19): the client_id host always, the rest by policy. */
export interface ClientDisplay {
  client_id: string;
  /** The client_id host as written there (lower-cased): for an internationalized name, its punycode form. */
  host: string;
  /**
   * Only for a host with a punycode (`xn--`) label (warning `client.idn_host`): the host as a
   * person reads it, which may imitate another name (`аpple.test` with a Cyrillic "а").
   */
  host_unicode?: string;
  /** Only with host_unicode: the ASCII form (`xn--pple-43d.test`), the one a look-alike cannot fake. */
  host_punycode?: string;
  name?: string;
  client_uri?: string;
  logo_url?: string;
  tos_uri?: string;
  policy_uri?: string;
  /** Host the user is sent back to; for a private-use scheme without a host, the scheme. */
  redirect_host?: string;
}

export interface AuthorizeDecision {
  /** `pending` only from the gateway: the document could not be had in time. */
  decision: 'allow' | 'deny' | 'pending';
  error?: OAuthErrorCode;
  error_description?: string;
  /** The rule that decided a denial, from the catalogue in findings.ts. */
  reason?: RuleCode;
  /**
   * On a denial: whether the AS may send the error back to the redirect_uri. False when the
   * client_id or the redirect_uri is the problem (RFC 6749 §4.1.2.1; SPEC-NOTES 31): the AS
   * shows an error page instead and never redirects.
   */
  redirect?: boolean;
  client?: ClientDisplay;
  trust?: { level: TrustLevel; warnings: RuleCode[] };
  /** On `pending`: why the client's last fetch failed (fetch.dns_failed, fetch.timeout, …), when known. */
  fetch_error?: { code: RuleCode; message: string; at: string };
  /** On `pending`: seconds after which a new check may get another answer. */
  retry_after_seconds?: number;
}

export interface AuthorizeInput {
  request: AuthorizeRequest;
  /** The document as validated against request.client_id. */
  document: DocumentCheck;
  policy?: TenantPolicy;
  /** When this deployment first saw the client (ms since epoch), for the new-client warning. */
  firstSeenAt?: number;
  now?: number;
  /** Where the consent screen may load the logo from (the gateway's own copy). Omitted: no logo. */
  logoUrl?: (logoUri: string) => string | undefined;
  /**
   * `checkClientIdUrl(request.client_id)` when the caller has it already (the gateway checks the
   * URL before it reads the cache, and keeps the result with its copy): not computed twice.
   */
  urlCheck?: ClientIdUrlCheck;
}

// Document warnings a consent screen should surface (SPEC-NOTES 20, 22).
const CONSENT_WARNINGS: ReadonlySet<RuleCode> = new Set<RuleCode>([
  'redirect_uris.loopback_only',
  'client_uri.cross_origin',
]);

/**
 * The decision the gateway gives for one authorization request against a validated
 * document and a tenant policy. Checks run in the order an authorization server must
 * apply them: who the client is, whether this tenant accepts it, then the request.
 */
export function decideAuthorization(input: AuthorizeInput): AuthorizeDecision {
  const { request, document: check } = input;
  const policy = input.policy ?? DEFAULT_TENANT_POLICY;

  const urlCheck = input.urlCheck ?? checkClientIdUrl(request.client_id);
  const url = urlCheck.url;
  if (!url)
    return deny(
      'invalid_client',
      firstError(urlCheck.errors, 'client_id is not a valid client identifier URL.'),
      urlCheck.errors[0]?.code ?? 'client_id.not_string',
    );
  const base: ClientDisplay = { client_id: url.value, host: url.host };
  const idn = idnHostForms(url.host);
  if (idn) {
    base.host_unicode = idn.unicode;
    base.host_punycode = idn.punycode;
  }

  const policyDenial = evaluateClientIdPolicy(url, policy);
  if (policyDenial) return deny('unauthorized_client', policyDenial.description, policyDenial.reason, base);

  const doc = check.document;
  if (check.errors[0]?.code === 'fetch.gone') {
    return deny(
      'invalid_client',
      `The client's metadata document has disappeared: ${check.errors[0].message}. The client no longer exists.`,
      'document.gone',
      base,
    );
  }
  if (!check.valid || !doc) {
    const more =
      check.errors.length > 1
        ? ` (and ${check.errors.length - 1} more problem${check.errors.length > 2 ? 's' : ''})`
        : '';
    return deny(
      'invalid_client',
      `The client's metadata document is invalid: ${firstError(check.errors, 'it could not be validated.')}${more}`,
      'document.invalid',
      base,
    );
  }
  if (doc.client_id !== url.value) {
    return deny(
      'invalid_client',
      `The metadata document was validated for ${quote(doc.client_id)}, not for this client_id.`,
      'document.client_id_mismatch',
      base,
    );
  }
  if (policy.require_client_name && doc.client_name === undefined) {
    return deny(
      'invalid_client',
      "The client's metadata document has no client_name, which this authorization server requires.",
      'document.client_name_required',
      base,
    );
  }

  if (!doc.grant_types.some((g) => REDIRECT_GRANT_TYPES.includes(g))) {
    return deny(
      'unauthorized_client',
      `This client uses only ${doc.grant_types.map((g) => quote(g)).join(', ')}, grants without a redirect: it cannot use the authorization endpoint.`,
      'grant_type.redirectless',
      base,
    );
  }

  // Callers validate types at their edge; the engine still refuses rather than throws.
  for (const key of ['redirect_uri', 'response_type', 'scope', 'code_challenge_method'] as const) {
    const value: unknown = request[key];
    if (value !== undefined && typeof value !== 'string') {
      return deny('invalid_request', `${key} must be a string.`, 'request.invalid', base);
    }
  }
  // Errors other than the client's or the redirect URI's may go back to the redirect URI once it
  // is known to be registered (RFC 6749 §4.1.2.1).
  const redirectUri = request.redirect_uri;
  const verified =
    typeof redirectUri === 'string' &&
    splitUri(redirectUri).fragment === undefined &&
    matchRegisteredRedirectUri(redirectUri, doc.redirect_uris) !== undefined;

  const responseType = request.response_type ?? 'code';
  if (responseType !== 'code') {
    return deny(
      'unsupported_response_type',
      `response_type ${quote(responseType)} is not supported; only "code" is.`,
      'response_type.unsupported',
      base,
      verified,
    );
  }
  if (!doc.response_types.includes('code')) {
    return deny(
      'unauthorized_client',
      'The client\'s metadata document does not list the response type "code".',
      'response_type.not_registered',
      base,
      verified,
    );
  }
  if (!doc.grant_types.includes('authorization_code')) {
    return deny(
      'unauthorized_client',
      'The client\'s metadata document does not list the grant type "authorization_code".',
      'grant_type.not_registered',
      base,
      verified,
    );
  }

  // Redirect URI (SPEC-NOTES 16-18)
  if (typeof redirectUri !== 'string' || redirectUri === '') {
    return deny('invalid_request', 'redirect_uri is required.', 'request.invalid', base);
  }
  if (splitUri(redirectUri).fragment !== undefined) {
    return deny('invalid_request', 'redirect_uri must not contain a fragment.', 'request.invalid', base);
  }
  const registered = matchRegisteredRedirectUri(redirectUri, doc.redirect_uris);
  if (registered === undefined) {
    return deny(
      'invalid_request',
      `redirect_uri ${quote(redirectUri)} is not registered in the client's metadata document, which lists ${doc.redirect_uris.length} redirect URI${doc.redirect_uris.length === 1 ? '' : 's'}.`,
      'redirect_uri.not_registered',
      base,
    );
  }
  // The registered URI passed validation, so it always classifies; the fallback is for the type checker.
  const target: RedirectTarget = redirectTargetOf(registered) ?? { kind: 'web', scheme: 'https' };
  const withRedirect: ClientDisplay = { ...base, redirect_host: target.host ?? target.scheme };
  if (target.kind === 'loopback' && !policy.allow_loopback_redirects) {
    return deny(
      'unauthorized_client',
      'This authorization server does not accept loopback redirect URIs.',
      'redirect_uri.loopback_not_allowed',
      withRedirect,
    );
  }
  if (target.kind === 'private_use' && !policy.allow_private_use_scheme_redirects) {
    return deny(
      'unauthorized_client',
      'This authorization server does not accept private-use URI scheme redirects.',
      'redirect_uri.private_scheme_not_allowed',
      withRedirect,
    );
  }
  const crossOrigin = target.kind === 'web' && target.host !== url.host;
  if (crossOrigin && policy.same_origin_https_redirects) {
    return deny(
      'unauthorized_client',
      `redirect_uri is on ${quote(target.host ?? '')}, but this authorization server requires redirect URIs on the client_id host ${quote(url.host)}.`,
      'redirect_uri.cross_origin_not_allowed',
      withRedirect,
    );
  }

  // How the client authenticates at this tenant's token endpoint (SPEC-NOTES 26): refused now
  // rather than after the user's consent, when it cannot.
  const authMethods = authMethodsFor(doc, policy);
  if (authMethods.refusal) {
    return deny('unauthorized_client', authMethods.refusal.description, authMethods.refusal.reason, withRedirect, true);
  }

  // Scope: when the document declares scopes, a request may ask only for those.
  if (request.scope !== undefined && doc.scope !== undefined) {
    const allowed = new Set(doc.scope.split(' '));
    const extra = request.scope.split(' ').filter((s) => s !== '' && !allowed.has(s));
    if (extra.length > 0) {
      return deny(
        'invalid_scope',
        `scope ${extra.map((s) => quote(s)).join(', ')} is not among the scopes in the client's metadata document.`,
        'scope.not_registered',
        withRedirect,
        true,
      );
    }
  }

  // PKCE (RFC 9700 §2.1.1): public clients have nothing else binding the code to them, and a
  // client that may authenticate with `none` here is public here.
  const pkce = request.code_challenge_method;
  if (authMethods.accepted.includes('none') && policy.require_pkce_s256_for_public_clients && pkce !== 'S256') {
    return deny(
      'invalid_request',
      pkce === undefined
        ? 'This public client must use PKCE: send code_challenge_method=S256.'
        : `code_challenge_method ${quote(pkce)} is not accepted; public clients must use S256.`,
      'pkce.required',
      withRedirect,
      true,
    );
  }
  if (pkce !== undefined && pkce !== 'S256' && pkce !== 'plain') {
    return deny(
      'invalid_request',
      `code_challenge_method ${quote(pkce)} is not supported; use S256.`,
      'request.invalid',
      withRedirect,
      true,
    );
  }

  const trusted = policy.trusted_client_ids.includes(url.value);
  const client: ClientDisplay = { ...withRedirect };
  if (trusted || policy.show_untrusted_name_and_logo) {
    if (doc.client_name !== undefined) client.name = doc.client_name;
    const logo = doc.logo_uri !== undefined ? input.logoUrl?.(doc.logo_uri) : undefined;
    if (logo !== undefined) client.logo_url = logo;
  }
  if (doc.client_uri !== undefined) client.client_uri = doc.client_uri;
  if (doc.tos_uri !== undefined) client.tos_uri = doc.tos_uri;
  if (doc.policy_uri !== undefined) client.policy_uri = doc.policy_uri;

  return {
    decision: 'allow',
    client,
    trust: {
      level: trusted ? 'trusted' : target.kind === 'web' && !crossOrigin ? 'verified_origin' : 'unverified',
      warnings: trustWarnings(check.warnings, target, crossOrigin, policy, input, idn !== undefined),
    },
  };
}

function trustWarnings(
  documentWarnings: readonly Finding[],
  target: RedirectTarget,
  crossOrigin: boolean,
  policy: TenantPolicy,
  input: AuthorizeInput,
  idnHost: boolean,
): RuleCode[] {
  const codes = new Set<RuleCode>();
  // A consent screen should then show the punycode form too: the Unicode one may imitate another host.
  if (idnHost) codes.add('client.idn_host');
  for (const w of documentWarnings) if (CONSENT_WARNINGS.has(w.code)) codes.add(w.code);
  if (crossOrigin) codes.add('redirect_uri.cross_origin');
  if (target.host === 'localhost') codes.add('redirect_uri.localhost');
  if (input.firstSeenAt !== undefined) {
    const now = input.now ?? Date.now();
    if (now - input.firstSeenAt < policy.new_client_warning_seconds * 1000) codes.add('client.first_seen_recently');
  }
  return [...codes];
}

function firstError(errors: readonly Finding[], fallback: string): string {
  return errors[0]?.message ?? fallback;
}

function deny(
  error: OAuthErrorCode,
  description: string,
  reason: RuleCode,
  client?: ClientDisplay,
  redirect = false,
): AuthorizeDecision {
  const d: AuthorizeDecision = { decision: 'deny', error, error_description: description, reason, redirect };
  if (client) d.client = client;
  return d;
}
