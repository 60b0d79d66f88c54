import { z } from 'zod';
import { checkClientIdUrl, ClientIdUrl, describeJsonType } from '../client-id/client-id-url';
import { CheckResult, Finding, FindingList, quote, RuleCode } from '../findings';
import { checkRegisteredRedirectUri, RedirectTarget } from '../redirect-uri/redirect-uri';
import { firstNonUriCharacter, splitUri, tryParseUrl } from '../uri/uri-parts';
import {
  ACCEPTED_AUTH_METHODS,
  DEFAULT_GRANT_TYPES,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_RESPONSE_TYPES,
  KEY_AUTH_METHODS,
  MetadataDocument,
  PublicJwk,
  REDIRECT_GRANT_TYPES,
  SHARED_SECRET_AUTH_METHODS,
} from './metadata-document';
import { checkJwkSet } from '../client-auth/jwk-set';

export interface DocumentCheck extends CheckResult {
  /** The normalized document, present only when there are no errors. */
  document?: MetadataDocument;
}

export interface DocumentCheckOptions {
  /**
   * The URL the document was fetched from. When given, the document's client_id must equal
   * it exactly (SPEC-NOTES 9); when omitted (linting a file), the document's own client_id
   * is checked against the URL rules instead.
   */
  clientId?: string;
}

const stringList = z.array(z.string());
// Types of the fields we read. Everything else is tolerated and dropped (SPEC-NOTES 13).
const KnownFields = z
  .looseObject({
    client_id: z.string(),
    redirect_uris: stringList,
    client_name: z.string(),
    client_uri: z.string(),
    logo_uri: z.string(),
    tos_uri: z.string(),
    policy_uri: z.string(),
    jwks_uri: z.string(),
    jwks: z.looseObject({ keys: z.array(z.looseObject({ kty: z.string() })) }),
    token_endpoint_auth_method: z.string(),
    token_endpoint_auth_methods_supported: stringList,
    token_endpoint_auth_signing_alg: z.string(),
    grant_types: stringList,
    response_types: stringList,
    scope: z.string(),
    application_type: z.string(),
    contacts: stringList,
    software_id: z.string(),
    software_version: z.string(),
    dpop_bound_access_tokens: z.boolean(),
  })
  .partial();

const EXPECTED: Record<string, string> = {
  redirect_uris: 'an array of strings',
  grant_types: 'an array of strings',
  response_types: 'an array of strings',
  contacts: 'an array of strings',
  token_endpoint_auth_methods_supported: 'an array of strings',
  dpop_bound_access_tokens: 'true or false',
  jwks: 'an object of the form {"keys": [ {"kty": …}, … ]}',
};

const DISPLAY_URI_FIELDS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'jwks_uri'] as const;
// Characters a consent screen must never render from a client: C0/C1 controls and the
// bidirectional overrides that let "moc.elgoog" display as "google.com".
// eslint-disable-next-line no-control-regex
const UNSAFE_DISPLAY_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const CLIENT_NAME_MAX = 200;
// RFC 6749 §3.3: scope-token = 1*NQCHAR.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The document rules (SPEC-NOTES 9-13 and 16-18 for its redirect URIs). Pure: the caller
 * parsed the JSON; this only reads the value.
 */
export function validateMetadataDocument(input: unknown, options: DocumentCheckOptions = {}): DocumentCheck {
  const f = new FindingList();
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    f.add('document.not_object', `The metadata document must be a JSON object; found ${describeJsonType(input)}.`);
    return f.result();
  }
  const raw = input as Record<string, unknown>;

  const typed = KnownFields.safeParse(raw);
  const badFields = new Set<string>();
  const fields: z.infer<typeof KnownFields> = typed.success ? typed.data : {};
  if (!typed.success) {
    for (const issue of typed.error.issues) {
      const top = String(issue.path[0]);
      if (badFields.has(top)) continue;
      badFields.add(top);
      if (top === 'jwks') continue; // reported with a precise message by checkKeys
      f.add('document.invalid_field_type', typeMessage(top, raw[top]), top);
    }
    // Keep the well-typed fields so that one bad field does not hide the other findings.
    const partial = KnownFields.safeParse(Object.fromEntries(Object.entries(raw).filter(([k]) => !badFields.has(k))));
    if (partial.success) Object.assign(fields, partial.data);
  }

  // client_id (SPEC-NOTES 9)
  let clientUrl: ClientIdUrl | undefined;
  if (!('client_id' in raw)) {
    f.add('document.client_id_missing', 'The document has no client_id; it must contain the URL it is published at.');
  } else if (fields.client_id !== undefined) {
    if (options.clientId !== undefined) {
      if (fields.client_id !== options.clientId) {
        f.add('document.client_id_mismatch', mismatchMessage(fields.client_id, options.clientId), 'client_id');
      }
      clientUrl = checkClientIdUrl(options.clientId).url;
    } else {
      const urlCheck = checkClientIdUrl(fields.client_id);
      f.merge(urlCheck);
      clientUrl = urlCheck.url;
    }
  }
  const clientHost = clientUrl?.host;

  // Client authentication (SPEC-NOTES 10, 11)
  const declaredMethod = fields.token_endpoint_auth_method;
  if ('client_secret' in raw || 'client_secret_expires_at' in raw) {
    const present = ['client_secret', 'client_secret_expires_at'].filter((k) => k in raw).join(' and ');
    f.add(
      'document.client_secret_present',
      `The document contains ${present}; a metadata document is public, so it can never carry a client secret.`,
    );
  }
  if (declaredMethod === undefined) {
    if (!badFields.has('token_endpoint_auth_method')) {
      const keys = fields.jwks !== undefined || fields.jwks_uri !== undefined;
      f.add(
        'document.auth_method_absent',
        'token_endpoint_auth_method is absent; it is read as "none" (a public client), not as the RFC 7591 default ' +
          `client_secret_basic, which metadata documents may not use.${keys ? ' Declare "private_key_jwt" to authenticate with the published keys.' : ''}`,
        'token_endpoint_auth_method',
      );
    }
  } else if (SHARED_SECRET_AUTH_METHODS.includes(declaredMethod) || /secret/i.test(declaredMethod)) {
    f.add(
      'document.shared_secret_auth',
      `token_endpoint_auth_method ${quote(declaredMethod)} uses a shared secret, which a public metadata document cannot hold; use "none" or "private_key_jwt".`,
      'token_endpoint_auth_method',
    );
  } else if (!ACCEPTED_AUTH_METHODS.includes(declaredMethod)) {
    f.add(
      'document.unsupported_auth_method',
      `token_endpoint_auth_method ${quote(declaredMethod)} is not supported; use one of ${ACCEPTED_AUTH_METHODS.map((m) => `"${m}"`).join(', ')}.`,
      'token_endpoint_auth_method',
    );
  }
  const authMethod = declaredMethod ?? 'none';
  const alg = fields.token_endpoint_auth_signing_alg;
  if (alg !== undefined && /^HS\d+$/i.test(alg)) {
    f.add(
      'document.shared_secret_signing_alg',
      `token_endpoint_auth_signing_alg ${quote(alg)} is an HMAC algorithm, which needs a shared secret; use an asymmetric algorithm such as ES256 or RS256.`,
      'token_endpoint_auth_signing_alg',
    );
  }
  checkKeys(raw, fields, authMethod, f);
  const methodsSupported = offeredAuthMethods(fields, f);
  if ('software_statement' in raw) {
    f.add(
      'document.software_statement_ignored',
      "software_statement is ignored: this server does not accept software statements, so the document's own fields are the metadata (RFC 7591 §3.1.1).",
      'software_statement',
    );
  }

  // Redirect URIs (SPEC-NOTES 12, 16, 17, 28): needed by grants that send the user back to one.
  const grantTypes = fields.grant_types ?? [...DEFAULT_GRANT_TYPES];
  const redirectGrants = grantTypes.filter((g) => REDIRECT_GRANT_TYPES.includes(g));
  const targets: RedirectTarget[] = [];
  if (!('redirect_uris' in raw)) {
    if (redirectGrants.length > 0 && !badFields.has('grant_types'))
      f.add(
        'document.redirect_uris_missing',
        `The document has no redirect_uris; the ${quote(redirectGrants[0] ?? '')} grant needs at least one.`,
      );
  } else if (fields.redirect_uris !== undefined) {
    if (fields.redirect_uris.length === 0 && redirectGrants.length > 0) {
      f.add(
        'document.redirect_uris_empty',
        `redirect_uris is empty; the ${quote(redirectGrants[0] ?? '')} grant needs at least one redirect URI.`,
        'redirect_uris',
      );
    }
    const seen = new Set<string>();
    fields.redirect_uris.forEach((uri, i) => {
      const field = `redirect_uris[${i}]`;
      if (seen.has(uri)) {
        f.add('document.redirect_uris_duplicate', `${field} ${quote(uri)} is listed more than once.`, field);
      }
      seen.add(uri);
      const target = checkRegisteredRedirectUri(uri, field, f, clientHost);
      if (target) targets.push(target);
    });
    if (targets.length > 0 && targets.every((t) => t.kind === 'loopback')) {
      f.add(
        'redirect_uris.loopback_only',
        'Every redirect URI is a loopback address: the user is sent back to a program on their own machine, which the authorization server cannot verify.',
        'redirect_uris',
      );
    }
  }

  // Display fields (SPEC-NOTES 12, 19, 21)
  if (fields.client_name === undefined) {
    if (!badFields.has('client_name')) {
      f.add(
        'document.client_name_missing',
        'client_name is absent; MCP requires it, and users will see only the client_id host.',
        'client_name',
      );
    }
  } else {
    const problem = clientNameProblem(fields.client_name);
    if (problem) f.add('document.client_name_invalid', `client_name ${problem}.`, 'client_name');
  }
  for (const key of DISPLAY_URI_FIELDS) {
    const value = fields[key];
    if (value === undefined) continue;
    const host = httpsUriHost(value);
    // The key set is fetched like the document: its URL is held to the same rules (SPEC-NOTES 27).
    const fetchProblem = key === 'jwks_uri' && host !== undefined ? checkClientIdUrl(value).errors[0] : undefined;
    if (host === undefined) {
      f.add(`${key}.invalid` as RuleCode, `${key} ${quote(value)} must be an absolute https URL.`, key);
    } else if (fetchProblem) {
      f.add('jwks_uri.invalid', `jwks_uri ${quote(value)} is never fetched: ${fetchProblem.message}`, key);
    } else if (key === 'client_uri' && clientHost !== undefined && host !== clientHost) {
      f.add(
        'client_uri.cross_origin',
        `client_uri points at ${quote(host)}, not at the client_id host ${quote(clientHost)}.`,
        'client_uri',
      );
    }
  }

  // Flows (RFC 7591 §2.1)
  const responseTypes = fields.response_types ?? [...DEFAULT_RESPONSE_TYPES];
  if (responseTypes.some((t) => t.split(' ').includes('token'))) {
    f.add(
      'document.implicit_response_type',
      'response_types includes "token" (the implicit flow), which current OAuth security guidance forbids; only "code" is honoured.',
      'response_types',
    );
  }
  const hasCode = responseTypes.includes('code');
  const hasAuthCode = grantTypes.includes('authorization_code');
  if (hasCode !== hasAuthCode && !badFields.has('grant_types') && !badFields.has('response_types')) {
    f.add(
      'document.grant_response_mismatch',
      hasCode
        ? 'response_types includes "code" but grant_types lacks "authorization_code", so the code could never be redeemed.'
        : 'grant_types includes "authorization_code" but response_types lacks "code".',
      hasCode ? 'grant_types' : 'response_types',
    );
  }
  const applicationType = fields.application_type ?? 'web';
  if (applicationType !== 'web' && applicationType !== 'native') {
    f.add(
      'document.application_type_invalid',
      `application_type ${quote(applicationType)} is not "web" or "native".`,
      'application_type',
    );
  }
  if (fields.scope !== undefined) {
    const bad = fields.scope.split(' ').find((t) => !SCOPE_TOKEN.test(t));
    if (bad !== undefined) {
      f.add(
        'document.scope_invalid',
        bad === ''
          ? 'scope must be scope tokens separated by single spaces, with no leading, trailing or double spaces.'
          : `scope token ${quote(bad)} contains a character not allowed in a scope (RFC 6749 §3.3).`,
        'scope',
      );
    }
  }

  if (!f.valid || fields.client_id === undefined) return f.result();

  const document: MetadataDocument = {
    client_id: fields.client_id,
    redirect_uris: fields.redirect_uris ?? [],
    token_endpoint_auth_method: authMethod,
    ...(methodsSupported ? { token_endpoint_auth_methods_supported: methodsSupported } : {}),
    grant_types: grantTypes,
    response_types: responseTypes,
    application_type: applicationType as MetadataDocument['application_type'],
  };
  const optional = [
    'client_name',
    'client_uri',
    'logo_uri',
    'tos_uri',
    'policy_uri',
    'scope',
    'jwks_uri',
    'jwks',
    'token_endpoint_auth_signing_alg',
    'contacts',
    'software_id',
    'software_version',
    'dpop_bound_access_tokens',
  ] as const;
  for (const key of optional) {
    if (fields[key] !== undefined) (document as unknown as Record<string, unknown>)[key] = fields[key];
  }
  return { ...f.result(), document };
}

function checkKeys(
  raw: Record<string, unknown>,
  fields: { jwks?: { keys: PublicJwk[] }; jwks_uri?: string },
  authMethod: string,
  f: FindingList,
): void {
  const hasJwks = 'jwks' in raw;
  const hasJwksUri = 'jwks_uri' in raw;
  if (hasJwks && hasJwksUri) {
    f.add(
      'document.jwks_and_jwks_uri',
      'The document has both jwks and jwks_uri; publish keys one way only (RFC 7591 §2).',
    );
  }
  if (hasJwks && fields.jwks === undefined) {
    // The type check already reported the shape; say what would be right.
    f.add(
      'document.jwks_malformed',
      'jwks must be a JWK Set: an object {"keys": [...]} whose members each have "kty", not a bare array or other value.',
      'jwks',
    );
  }
  const keys = fields.jwks?.keys;
  // An empty set is reported as missing keys below, when the auth method needs them.
  if (fields.jwks !== undefined && keys !== undefined && keys.length > 0) f.merge(checkJwkSet(fields.jwks, 'jwks'));
  if (KEY_AUTH_METHODS.includes(authMethod) && !hasJwksUri && (!hasJwks || (keys !== undefined && keys.length === 0))) {
    f.add(
      'document.keys_missing',
      `token_endpoint_auth_method "${authMethod}" needs the client's public keys: add jwks_uri (or a non-empty jwks).`,
      'token_endpoint_auth_method',
    );
  }
}

/**
 * `token_endpoint_auth_methods_supported`, when the document lists it: the methods that can be
 * used (never a shared secret; `private_key_jwt` only with keys), or undefined when none can.
 */
function offeredAuthMethods(
  fields: { token_endpoint_auth_methods_supported?: string[]; jwks?: unknown; jwks_uri?: string },
  f: FindingList,
): string[] | undefined {
  const listed = fields.token_endpoint_auth_methods_supported;
  if (listed === undefined) return undefined;
  const hasKeys = fields.jwks !== undefined || fields.jwks_uri !== undefined;
  const usable = [...new Set(listed)].filter(
    (m) => ACCEPTED_AUTH_METHODS.includes(m) && (!KEY_AUTH_METHODS.includes(m) || hasKeys),
  );
  const ignored = listed.filter((m) => !usable.includes(m));
  if (ignored.length > 0) {
    f.add(
      'document.auth_methods_supported_invalid',
      `token_endpoint_auth_methods_supported lists ${ignored.map((m) => quote(m)).join(', ')}, which ${ignored.length === 1 ? 'is' : 'are'} ignored: shared secrets are never allowed, unknown methods cannot be used, and a key-based method needs jwks_uri or jwks.`,
      'token_endpoint_auth_methods_supported',
    );
  }
  return usable.length > 0 ? usable : undefined;
}

function typeMessage(field: string, value: unknown): string {
  const expected = EXPECTED[field] ?? 'a string';
  let found = describeJsonType(value);
  if (Array.isArray(value) && expected === 'an array of strings') {
    const i = value.findIndex((v) => typeof v !== 'string');
    found = `an array whose item ${i} is ${describeJsonType(value[i])}`;
  }
  return `${field} must be ${expected}; found ${found}.`;
}

function mismatchMessage(documentClientId: string, fetchedFrom: string): string {
  let hint = '';
  if (documentClientId.toLowerCase() === fetchedFrom.toLowerCase()) hint = ' They differ only in letter case;';
  else if (documentClientId.replace(/\/$/, '') === fetchedFrom.replace(/\/$/, ''))
    hint = ' They differ only by a trailing slash;';
  return (
    `The document's client_id ${quote(documentClientId)} is not the URL it was fetched from, ${quote(fetchedFrom)}.` +
    `${hint} client_id must equal that URL character for character (RFC 3986 §6.2.1).`
  );
}

function clientNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'is empty';
  if (UNSAFE_DISPLAY_CHARACTERS.test(name)) {
    return 'contains control or bidirectional-override characters, which could disguise the name on a consent screen';
  }
  if (name.length > CLIENT_NAME_MAX)
    return `is ${name.length} characters long; at most ${CLIENT_NAME_MAX} are accepted`;
  return undefined;
}

/** Lower-cased host of an absolute https URL without credentials, or undefined. */
function httpsUriHost(raw: string): string | undefined {
  if (firstNonUriCharacter(raw)) return undefined;
  const parts = splitUri(raw);
  if (parts.scheme?.toLowerCase() !== 'https' || !parts.host || parts.userinfo !== undefined) return undefined;
  return tryParseUrl(raw)?.hostname;
}

/** A warning when a document's serialized size is over what the fetcher will download. */
export function checkDocumentSize(byteLength: number, limit = DEFAULT_MAX_DOCUMENT_BYTES): Finding | undefined {
  if (byteLength <= limit) return undefined;
  return {
    code: 'document.exceeds_fetch_limit',
    message: `The document is ${byteLength} bytes; authorization servers refuse documents over ${limit} bytes, so it would never be fetched.`,
  };
}
