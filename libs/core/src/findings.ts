/**
 * Every rule the engine can report, with a stable machine code. Codes are part of the
 * public contract (CLI JSON, gateway decisions, events): never rename one, add a new one.
 *
 * `spec` points at the numbered requirement of docs/REQUIREMENTS.md (or the RFC or draft section) the check comes from;
 * `severity` says whether it fails validation (`error`), only informs (`warning`), or is
 * reported by the authorization decision for one request (`decision`).
 */
export const RULES = {
  // Client identifier URL (SPEC-NOTES 1-3)
  'client_id.not_string': { severity: 'error', spec: '1', summary: 'client_id is not a string' },
  'client_id.empty': { severity: 'error', spec: '1', summary: 'client_id is empty' },
  'client_id.too_long': { severity: 'error', spec: '1', summary: 'client_id is longer than 2048 characters' },
  'client_id.invalid_character': {
    severity: 'error',
    spec: '1, 2',
    summary: 'a character that may not appear in a URL (space, control, non-ASCII, backslash, …)',
  },
  'client_id.bad_percent_encoding': { severity: 'error', spec: '2', summary: 'a `%` not followed by two hex digits' },
  'client_id.not_absolute': {
    severity: 'error',
    spec: '1',
    summary: 'not an absolute URL (also: unreplaced template placeholders such as `%BASE_URL%`)',
  },
  'client_id.not_https': { severity: 'error', spec: '1', summary: 'scheme is not https' },
  'client_id.missing_host': { severity: 'error', spec: '1', summary: 'no host' },
  'client_id.userinfo': { severity: 'error', spec: '1', summary: 'username or password before the host' },
  'client_id.invalid_port': { severity: 'error', spec: '1', summary: 'port not a number from 1 to 65535' },
  'client_id.invalid_host': {
    severity: 'error',
    spec: '2',
    summary: 'host is not a valid name, or URL parsers read it as another host (`127.1`, `0x7f.0.0.1`, `%61`)',
  },
  'client_id.missing_path': { severity: 'error', spec: '1', summary: 'no path component' },
  'client_id.dot_segment': {
    severity: 'error',
    spec: '1, 2, 3',
    summary: 'a `.` or `..` path segment, also percent-encoded (`%2e`, `.%2E`); `.well-known` and `..foo` are ordinary',
  },
  'client_id.fragment': { severity: 'error', spec: '1', summary: 'a fragment (`#…`), even an empty one' },
  'client_id.query': { severity: 'warning', spec: '1', summary: 'a query string (SHOULD NOT)' },
  'client_id.root_path': { severity: 'warning', spec: '1', summary: 'the path is only `/`' },
  'client_id.not_normalized': {
    severity: 'warning',
    spec: '2, 9',
    summary:
      'upper-case scheme or host, trailing dot, or `:443` written out: the document must repeat the exact spelling',
  },
  'client_id.ip_address_host': { severity: 'warning', spec: '5', summary: 'an IP address instead of a host name' },
  'client_id.localhost': {
    severity: 'error',
    spec: '5',
    summary: 'the host is `localhost` or a `*.localhost` name (RFC 6761), which always means this machine',
  },

  // Document (SPEC-NOTES 9-13)
  'document.not_object': { severity: 'error', spec: '9', summary: 'the JSON is not an object' },
  'document.client_id_missing': { severity: 'error', spec: '9', summary: 'no client_id' },
  'document.client_id_mismatch': {
    severity: 'error',
    spec: '9',
    summary: 'client_id is not the URL the document was fetched from, by exact string comparison',
  },
  'document.invalid_field_type': {
    severity: 'error',
    spec: '13',
    summary: 'a known field has the wrong JSON type (e.g. `redirect_uris` as a string)',
  },
  'document.shared_secret_auth': {
    severity: 'error',
    spec: '10',
    summary: '`token_endpoint_auth_method` is a shared-secret method',
  },
  'document.client_secret_present': {
    severity: 'error',
    spec: '10',
    summary: '`client_secret` or `client_secret_expires_at` is present',
  },
  'document.unsupported_auth_method': {
    severity: 'error',
    spec: '10',
    summary:
      '`token_endpoint_auth_method` is not `none`, `private_key_jwt`, `tls_client_auth` or `self_signed_tls_client_auth`',
  },
  'document.shared_secret_signing_alg': {
    severity: 'error',
    spec: '10',
    summary: '`token_endpoint_auth_signing_alg` is an HMAC (HS*) algorithm',
  },
  'document.keys_missing': {
    severity: 'error',
    spec: '11',
    summary: 'a key-based auth method without `jwks_uri` or a non-empty `jwks`',
  },
  'document.jwks_and_jwks_uri': { severity: 'error', spec: '11', summary: 'both `jwks` and `jwks_uri`' },
  'document.jwks_malformed': { severity: 'error', spec: '11', summary: '`jwks` is not `{"keys": [{"kty": …}, …]}`' },
  'document.jwks_private_key': { severity: 'error', spec: '11', summary: '`jwks` holds a private or symmetric key' },
  'document.redirect_uris_missing': {
    severity: 'error',
    spec: '12, 28',
    summary: 'no `redirect_uris`, while `grant_types` include a grant that uses a redirect (authorization_code)',
  },
  'document.redirect_uris_empty': {
    severity: 'error',
    spec: '12, 28',
    summary: '`redirect_uris` is empty, while `grant_types` include a grant that uses a redirect',
  },
  'document.client_name_missing': {
    severity: 'warning',
    spec: '12',
    summary: 'no `client_name` (MCP requires it; tenants may require it too)',
  },
  'document.client_name_invalid': {
    severity: 'error',
    spec: '19',
    summary: '`client_name` is blank, over 200 characters, or has control/bidi-override characters',
  },
  'document.application_type_invalid': {
    severity: 'error',
    spec: '13',
    summary: '`application_type` is not `web` or `native`',
  },
  'document.scope_invalid': {
    severity: 'error',
    spec: 'RFC 6749 §3.3',
    summary: '`scope` is not space-separated RFC 6749 scope tokens',
  },
  'document.auth_method_absent': {
    severity: 'warning',
    spec: '10',
    summary: '`token_endpoint_auth_method` absent: read as `none`',
  },
  'document.implicit_response_type': {
    severity: 'warning',
    spec: 'RFC 9700 §2.1.2',
    summary: '`response_types` includes `token`',
  },
  'document.grant_response_mismatch': {
    severity: 'warning',
    spec: 'RFC 7591 §2.1',
    summary: '`code` response type without the `authorization_code` grant, or the reverse',
  },
  'document.redirect_uris_duplicate': { severity: 'warning', spec: '16', summary: 'a redirect URI is listed twice' },
  'document.software_statement_ignored': {
    severity: 'warning',
    spec: '29',
    summary: '`software_statement` is present and ignored (statements are not supported; RFC 7591 §3.1.1)',
  },
  'document.auth_methods_supported_invalid': {
    severity: 'warning',
    spec: '10, 26',
    summary:
      '`token_endpoint_auth_methods_supported` lists methods that cannot be used (shared secrets, unknown, `private_key_jwt` without keys); they are ignored',
  },
  'document.exceeds_fetch_limit': {
    severity: 'warning',
    spec: '6',
    summary: '(CLI lint) the file is larger than the 5120 bytes the fetcher accepts',
  },
  'client_uri.invalid': {
    severity: 'error',
    spec: '19',
    summary: '`client_uri` is not an absolute https URL without credentials',
  },
  'logo_uri.invalid': {
    severity: 'error',
    spec: '21',
    summary: '`logo_uri` is not an absolute https URL without credentials',
  },
  'tos_uri.invalid': {
    severity: 'error',
    spec: '19',
    summary: '`tos_uri` is not an absolute https URL without credentials',
  },
  'policy_uri.invalid': {
    severity: 'error',
    spec: '19',
    summary: '`policy_uri` is not an absolute https URL without credentials',
  },
  'jwks_uri.invalid': {
    severity: 'error',
    spec: '11, 27',
    summary:
      '`jwks_uri` is not an absolute https URL without credentials, or breaks the URL rules the fetcher holds it to (those of a client_id)',
  },
  'client_uri.cross_origin': {
    severity: 'warning',
    spec: '18, 22',
    summary: '`client_uri` is on another host than the client_id',
  },

  // Fetching (SPEC-NOTES 4-8): why a fetch produced no document
  'fetch.port_not_allowed': {
    severity: 'error',
    spec: '5',
    summary: 'the URL names a port outside the allowed ports (443 by default)',
  },
  'fetch.blocked_address': {
    severity: 'error',
    spec: '5',
    summary: 'the host is, or resolves to, a special-use address (private, loopback, link-local, metadata, …)',
  },
  'fetch.dns_failed': { severity: 'error', spec: '8', summary: 'the host name did not resolve (transient)' },
  'fetch.connect_failed': { severity: 'error', spec: '8', summary: 'the connection failed or was reset (transient)' },
  'fetch.tls_failed': {
    severity: 'error',
    spec: '8',
    summary: 'TLS failed: untrusted, expired or wrong-name certificate (transient)',
  },
  'fetch.timeout': {
    severity: 'error',
    spec: '7',
    summary: 'no complete response within the deadline, or 408 (transient)',
  },
  'fetch.redirect': { severity: 'error', spec: '4', summary: 'a 3xx answer; redirects are never followed' },
  'fetch.gone': { severity: 'error', spec: '4', summary: '404 or 410: the document is gone' },
  'fetch.server_error': { severity: 'error', spec: '4, 8', summary: 'a 5xx answer (transient)' },
  'fetch.rate_limited': { severity: 'error', spec: '4, 8', summary: 'a 429 answer (transient; Retry-After honoured)' },
  'fetch.unexpected_status': {
    severity: 'error',
    spec: '4',
    summary: 'any other status than 200 (e.g. 201, 403, an unasked-for 304)',
  },
  'fetch.too_large': {
    severity: 'error',
    spec: '6',
    summary: 'the body is over the size cap (5120 bytes), by Content-Length, while streaming or once decoded',
  },
  'fetch.bad_content_type': {
    severity: 'error',
    spec: '4',
    summary: 'the content type is not JSON (`application/json`, `application/*+json`; `text/plain` by configuration)',
  },
  'fetch.unsupported_content_encoding': {
    severity: 'error',
    spec: '6',
    summary: 'a Content-Encoding other than gzip, deflate or br, or a corrupt compressed body',
  },
  'fetch.text_plain': {
    severity: 'warning',
    spec: '4',
    summary: 'served as `text/plain` and accepted because it parses as JSON',
  },
  'document.not_json': { severity: 'error', spec: '9', summary: 'the body is not UTF-8 JSON' },
  'logo.unavailable': {
    severity: 'warning',
    spec: '21',
    summary: 'the logo could not be prefetched (not a PNG/JPEG/GIF/WebP/ICO image, too large, or unreachable)',
  },

  // A tenant's webhook URL, checked when its policy is saved (SPEC-NOTES 5); delivery checks again
  'webhook_url.userinfo': {
    severity: 'error',
    spec: '5',
    summary: 'the webhook URL has a username or password (`https://user@…`, `https://name@address/`)',
  },
  'webhook_url.localhost': {
    severity: 'error',
    spec: '5',
    summary: 'the webhook host is `localhost` or a `*.localhost` name (RFC 6761)',
  },
  'webhook_url.special_use_address': {
    severity: 'error',
    spec: '5',
    summary:
      'the webhook host is an IP literal in a special-use range, in any spelling (`0x7f.1`, `[::ffff:a9fe:a9fe]`)',
  },
  'webhook_url.port_not_allowed': {
    severity: 'error',
    spec: '5',
    summary: 'the webhook URL names a port other than those the deployment delivers to (443 by default)',
  },

  // Registered redirect URIs (SPEC-NOTES 16-18)
  'redirect_uri.malformed': { severity: 'error', spec: '17', summary: 'not a valid URI' },
  'redirect_uri.wildcard': { severity: 'error', spec: '16', summary: 'contains `*`' },
  'redirect_uri.not_absolute': { severity: 'error', spec: '17', summary: 'no scheme' },
  'redirect_uri.fragment': { severity: 'error', spec: '17', summary: 'contains a fragment' },
  'redirect_uri.userinfo': { severity: 'error', spec: '17', summary: 'contains a username or password' },
  'redirect_uri.forbidden_scheme': {
    severity: 'error',
    spec: '17',
    summary: '`javascript:`, `data:`, `file:`, `vbscript:`, `blob:`, `about:` or `filesystem:`',
  },
  'redirect_uri.http_not_loopback': {
    severity: 'error',
    spec: '17',
    summary: 'plain http on a host other than 127.0.0.1, [::1] or localhost',
  },
  'redirect_uri.private_scheme_without_period': {
    severity: 'error',
    spec: '17',
    summary: 'a private-use scheme without a period (`myapp:`)',
  },
  'redirect_uri.localhost': { severity: 'warning', spec: '17, 20', summary: 'uses the name `localhost`' },
  'redirect_uri.cross_origin': {
    severity: 'warning',
    spec: '18',
    summary: 'an https redirect on another host than the client_id',
  },
  'redirect_uri.private_scheme_not_client_domain': {
    severity: 'warning',
    spec: '17',
    summary: 'a private-use scheme that is not the reversed client_id host',
  },
  'redirect_uris.loopback_only': { severity: 'warning', spec: '20', summary: 'every redirect URI is loopback' },

  // Authorization decision for one request (SPEC-NOTES 8, 16-22)
  'request.invalid': {
    severity: 'decision',
    spec: '16',
    summary: 'the request itself is malformed (missing redirect_uri, fragment, wrong types, unknown PKCE method)',
  },
  'document.gone': {
    severity: 'decision',
    spec: '23',
    summary: "the client's document has disappeared (404/410): the client is gone",
  },
  'client.pending': {
    severity: 'decision',
    spec: '8',
    summary: 'the document is not cached and its fetch did not finish within the wait: try again',
  },
  'client.stale': {
    severity: 'warning',
    spec: '14',
    summary: 'served from an expired copy while the origin fails transiently (stale-if-error window)',
  },
  'document.invalid': {
    severity: 'decision',
    spec: '8, 15',
    summary: 'the document failed validation (the description gives the first problem)',
  },
  'document.client_name_required': {
    severity: 'decision',
    spec: '12',
    summary: 'the tenant requires `client_name` and the document has none',
  },
  'redirect_uri.not_registered': {
    severity: 'decision',
    spec: '16',
    summary: "the request's redirect_uri matches no registered URI",
  },
  'redirect_uri.loopback_not_allowed': {
    severity: 'decision',
    spec: '17',
    summary: 'the tenant refuses loopback redirects',
  },
  'redirect_uri.private_scheme_not_allowed': {
    severity: 'decision',
    spec: '17',
    summary: 'the tenant refuses private-use scheme redirects',
  },
  'redirect_uri.cross_origin_not_allowed': {
    severity: 'decision',
    spec: '18',
    summary: 'the tenant requires https redirects on the client_id host',
  },
  'response_type.unsupported': {
    severity: 'decision',
    spec: 'RFC 6749 §4.1.2.1',
    summary: 'response_type is not `code`',
  },
  'response_type.not_registered': {
    severity: 'decision',
    spec: 'RFC 7591 §2.1',
    summary: 'the document does not list `code` in `response_types`',
  },
  'grant_type.not_registered': {
    severity: 'decision',
    spec: 'RFC 7591 §2.1',
    summary: 'the document does not list `authorization_code` in `grant_types`',
  },
  'scope.not_registered': {
    severity: 'decision',
    spec: 'RFC 7591 §2',
    summary: "a requested scope is not in the document's `scope`",
  },
  'pkce.required': {
    severity: 'decision',
    spec: 'RFC 9700 §2.1.1',
    summary: 'a public client without `code_challenge_method=S256` (tenant policy, on by default)',
  },
  'policy.host_denied': {
    severity: 'decision',
    spec: '18',
    summary: 'the client_id host is denied (or not allowed) by the tenant',
  },
  'policy.not_allowlisted': {
    severity: 'decision',
    spec: 'draft §7.2',
    summary: 'the tenant is allowlist-only and the client_id is not listed',
  },
  'policy.idn_host_denied': {
    severity: 'decision',
    spec: '19, 22',
    summary: 'the tenant refuses client_id hosts with a punycode (`xn--`) label (`deny_idn_hosts`)',
  },
  'client.idn_host': {
    severity: 'warning',
    spec: '19, 22',
    summary:
      'the client_id host has a punycode (`xn--`) label, an internationalized name that may imitate another (`xn--pple-43d.test` reads "аpple.test", with a Cyrillic "а"); the decision\'s `client` carries both forms',
  },
  'client.first_seen_recently': {
    severity: 'warning',
    spec: '22',
    summary: 'the client was first seen less than `new_client_warning_seconds` ago',
  },
  'grant_type.redirectless': {
    severity: 'decision',
    spec: '28',
    summary:
      'the client uses only grants without a redirect (client_credentials, token exchange, jwt-bearer) and has no business at the authorization endpoint',
  },

  // Key sets: a document's `jwks`, or what its `jwks_uri` serves (SPEC-NOTES 11, 26, 27, 30)
  'keys.malformed': {
    severity: 'error',
    spec: '11',
    summary: 'what `jwks_uri` serves is not a JWK Set `{"keys": [{"kty": …}, …]}` in JSON',
  },
  'keys.private_key': {
    severity: 'error',
    spec: '11',
    summary: 'the key set at `jwks_uri` holds a private or symmetric key',
  },
  'keys.duplicate_kid': {
    severity: 'error',
    spec: '26',
    summary: 'two keys share a `kid`, so an assertion could not name the key that signed it',
  },
  'keys.unsupported_key': {
    severity: 'warning',
    spec: '26',
    summary:
      'a key that cannot sign a client assertion here (kty or curve not accepted, RSA under 2048 bits, `use` not `sig`, an `alg` not allowed) is ignored',
  },
  'keys.empty': {
    severity: 'error',
    spec: '26',
    summary: 'the key set has no key a client assertion could be verified with',
  },

  // Client authentication at the token endpoint (SPEC-NOTES 26; RFC 7523 §2.2, §3; RFC 8725)
  'client_auth.tenant_not_configured': {
    severity: 'decision',
    spec: '26',
    summary:
      'the client authenticates only with `private_key_jwt`, and the tenant has not set the `issuer` and `token_endpoint` an assertion must be addressed to',
  },
  'client_auth.method_not_supported': {
    severity: 'decision',
    spec: '26',
    summary: 'the client offers no authentication method the tenant accepts (`token_endpoint_auth_methods_supported`)',
  },
  'client_auth.assertion_required': {
    severity: 'decision',
    spec: '26',
    summary: 'the client declares `private_key_jwt` (and not `none`): a client assertion is required',
  },
  'client_auth.assertion_not_allowed': {
    severity: 'decision',
    spec: '26',
    summary: 'the client is public (`none`): it has no keys to sign an assertion with, so one is refused',
  },
  'client_auth.assertion_type_unsupported': {
    severity: 'decision',
    spec: 'RFC 7523 §2.2',
    summary: '`client_assertion_type` is not `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`',
  },
  'client_auth.malformed': {
    severity: 'decision',
    spec: 'RFC 7523 §3',
    summary: 'the assertion is not a signed JWT (compact JWS with a JSON header and claims)',
  },
  'client_auth.alg_not_allowed': {
    severity: 'decision',
    spec: '26',
    summary:
      'the assertion is signed with an algorithm not allowed (never `none` or HS*; RS/PS/ES 256-512 and EdDSA), or not the one the document declares',
  },
  'client_auth.typ_not_allowed': {
    severity: 'decision',
    spec: '26',
    summary:
      '`typ` is neither `oauth-client-auth+jwt` nor (unless the tenant requires the explicit type) absent or `JWT`',
  },
  'client_auth.keys_unavailable': {
    severity: 'decision',
    spec: '26, 27',
    summary: "the client's key set could not be had or is invalid, so no assertion of it can be verified",
  },
  'client_auth.unknown_key': {
    severity: 'decision',
    spec: '26, 30',
    summary:
      "no key of the client's key set matches the assertion's `kid` and `alg`, even after fetching the set again",
  },
  'client_auth.bad_signature': {
    severity: 'decision',
    spec: '26',
    summary: 'the signature does not verify with the key the assertion names',
  },
  'client_auth.iss_mismatch': {
    severity: 'decision',
    spec: '26',
    summary: '`iss` is not the client_id',
  },
  'client_auth.sub_mismatch': {
    severity: 'decision',
    spec: '26',
    summary: '`sub` is not the client_id',
  },
  'client_auth.aud_mismatch': {
    severity: 'decision',
    spec: '26',
    summary: "`aud` names neither the tenant's `issuer` nor its `token_endpoint`",
  },
  'client_auth.exp_missing': { severity: 'decision', spec: 'RFC 7523 §3', summary: 'no `exp` claim' },
  'client_auth.expired': {
    severity: 'decision',
    spec: 'RFC 7523 §3',
    summary: '`exp` has passed (60 s of clock skew allowed)',
  },
  'client_auth.lifetime_too_long': {
    severity: 'decision',
    spec: '26',
    summary: "the assertion lives longer than the tenant's `max_assertion_lifetime_seconds` (default 300)",
  },
  'client_auth.not_yet_valid': {
    severity: 'decision',
    spec: 'RFC 7523 §3',
    summary: '`iat` or `nbf` is in the future (60 s of clock skew allowed)',
  },
  'client_auth.jti_missing': { severity: 'decision', spec: '26', summary: 'no `jti` claim' },
  'client_auth.replayed': {
    severity: 'decision',
    spec: '26',
    summary: 'this `jti` was already used by this client at this tenant before the assertion expired',
  },
} as const satisfies Record<string, { severity: 'error' | 'warning' | 'decision'; spec: string; summary: string }>;

export type RuleCode = keyof typeof RULES;

/** One reported problem: a stable code, a sentence for a developer, and where it was found. */
export interface Finding {
  code: RuleCode;
  message: string;
  /** JSON path of the offending field (`redirect_uris[1]`), when the finding is about one. */
  field?: string;
}

/** The result shape shared by the URL and document checks. */
export interface CheckResult {
  valid: boolean;
  errors: Finding[];
  warnings: Finding[];
}

/** Collects findings and routes each to errors or warnings by its catalogued severity. */
export class FindingList {
  readonly errors: Finding[] = [];
  readonly warnings: Finding[] = [];

  add(code: RuleCode, message: string, field?: string): void {
    const finding: Finding = field === undefined ? { code, message } : { code, message, field };
    if (RULES[code].severity === 'warning') this.warnings.push(finding);
    else this.errors.push(finding);
  }

  merge(other: { errors: readonly Finding[]; warnings: readonly Finding[] }): void {
    this.errors.push(...other.errors);
    this.warnings.push(...other.warnings);
  }

  get valid(): boolean {
    return this.errors.length === 0;
  }

  result(): CheckResult {
    return { valid: this.valid, errors: this.errors, warnings: this.warnings };
  }
}

/**
 * Characters JSON.stringify leaves as they are but a message must not carry: DEL and the C1
 * controls, invisible and bidirectional formatting (a right-to-left override would reorder
 * what a person reads), line and paragraph separators, the BOM, unpaired surrogates.
 */
const INVISIBLE =
  /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const ESCAPED = new RegExp(`[\\x00-\\x09\\x0b-\\x1f]|${INVISIBLE.source}`, 'g');

/**
 * Text for a person (a message, a terminal): C0 control characters but the line feed (an escape
 * sequence would reach a terminal) and the INVISIBLE ones, each shown as a `\u` escape.
 */
export function escapeInvisible(text: string): string {
  return text.replace(ESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Quote a value for a message without letting control characters, invisible ones or huge strings through. */
export function quote(value: string, max = 120): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return escapeInvisible(JSON.stringify(shown));
}

/** docs/RULES.md, generated from RULES so the catalogue and its documentation cannot drift (`npm run docs`). */
export function renderRulesMarkdown(): string {
  const rows = Object.entries(RULES).map(([code, r]) => `| \`${code}\` | ${r.severity} | ${r.spec} | ${r.summary} |`);
  return [
    '# Rule catalogue',
    '',
    '<!-- Generated from libs/core/src/findings.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every finding `@cimd/core` and the fetcher report, with its stable code. Codes never change meaning; new rules get',
    'new codes. `error` fails validation (or, for `fetch.*`, explains why a fetch produced no document), `warning`',
    "informs (and may appear in a decision's `trust.warnings`), `decision` is the `reason` of a denied authorization",
    'request. *Spec* is the number of a requirement in [REQUIREMENTS.md](REQUIREMENTS.md) (tests cite it as',
    '"SPEC-NOTES n"), an RFC section, or a section of draft-ietf-oauth-client-id-metadata-document-03.',
    '',
    '| code | severity | spec | when |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
