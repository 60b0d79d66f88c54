/**
 * Every rule the engine can report, with a stable machine code. Codes are part of the
 * public contract (CLI JSON, gateway decisions, events): never rename one, add a new one.
 *
 * `spec` points at the numbered rule in SPEC-NOTES.md (or the RFC) the check comes from;
 * `severity` says whether it fails validation (`error`), only informs (`warning`), or is
 * reported by the authorization decision for one request (`decision`).
 */
export const RULES = {
  // Client identifier URL (SPEC-NOTES 1-3)
  'client_id.not_string': { severity: 'error', spec: '1' },
  'client_id.empty': { severity: 'error', spec: '1' },
  'client_id.too_long': { severity: 'error', spec: '1' },
  'client_id.invalid_character': { severity: 'error', spec: '1, 2' },
  'client_id.bad_percent_encoding': { severity: 'error', spec: '2' },
  'client_id.not_absolute': { severity: 'error', spec: '1' },
  'client_id.not_https': { severity: 'error', spec: '1' },
  'client_id.missing_host': { severity: 'error', spec: '1' },
  'client_id.userinfo': { severity: 'error', spec: '1' },
  'client_id.invalid_port': { severity: 'error', spec: '1' },
  'client_id.invalid_host': { severity: 'error', spec: '2' },
  'client_id.missing_path': { severity: 'error', spec: '1' },
  'client_id.dot_segment': { severity: 'error', spec: '1, 2, 3' },
  'client_id.fragment': { severity: 'error', spec: '1' },
  'client_id.query': { severity: 'warning', spec: '1' },
  'client_id.root_path': { severity: 'warning', spec: '1' },
  'client_id.not_normalized': { severity: 'warning', spec: '2, 9' },
  'client_id.ip_address_host': { severity: 'warning', spec: '5' },

  // Document (SPEC-NOTES 9-13)
  'document.not_object': { severity: 'error', spec: '9' },
  'document.client_id_missing': { severity: 'error', spec: '9' },
  'document.client_id_mismatch': { severity: 'error', spec: '9' },
  'document.invalid_field_type': { severity: 'error', spec: '13' },
  'document.shared_secret_auth': { severity: 'error', spec: '10' },
  'document.client_secret_present': { severity: 'error', spec: '10' },
  'document.unsupported_auth_method': { severity: 'error', spec: '10' },
  'document.shared_secret_signing_alg': { severity: 'error', spec: '10' },
  'document.keys_missing': { severity: 'error', spec: '11' },
  'document.jwks_and_jwks_uri': { severity: 'error', spec: '11' },
  'document.jwks_malformed': { severity: 'error', spec: '11' },
  'document.jwks_private_key': { severity: 'error', spec: '11' },
  'document.redirect_uris_missing': { severity: 'error', spec: '12' },
  'document.redirect_uris_empty': { severity: 'error', spec: '12' },
  'document.client_name_missing': { severity: 'warning', spec: '12' },
  'document.client_name_invalid': { severity: 'error', spec: '19' },
  'document.application_type_invalid': { severity: 'error', spec: '13' },
  'document.scope_invalid': { severity: 'error', spec: 'RFC 6749 §3.3' },
  'document.auth_method_absent': { severity: 'warning', spec: '10' },
  'document.implicit_response_type': { severity: 'warning', spec: 'RFC 9700 §2.1.2' },
  'document.grant_response_mismatch': { severity: 'warning', spec: 'RFC 7591 §2.1' },
  'document.redirect_uris_duplicate': { severity: 'warning', spec: '16' },
  'document.exceeds_fetch_limit': { severity: 'warning', spec: '6' },
  'client_uri.invalid': { severity: 'error', spec: '19' },
  'logo_uri.invalid': { severity: 'error', spec: '21' },
  'tos_uri.invalid': { severity: 'error', spec: '19' },
  'policy_uri.invalid': { severity: 'error', spec: '19' },
  'jwks_uri.invalid': { severity: 'error', spec: '11' },
  'client_uri.cross_origin': { severity: 'warning', spec: '18, 22' },

  // Registered redirect URIs (SPEC-NOTES 16-18)
  'redirect_uri.malformed': { severity: 'error', spec: '17' },
  'redirect_uri.wildcard': { severity: 'error', spec: '16' },
  'redirect_uri.not_absolute': { severity: 'error', spec: '17' },
  'redirect_uri.fragment': { severity: 'error', spec: '17' },
  'redirect_uri.userinfo': { severity: 'error', spec: '17' },
  'redirect_uri.forbidden_scheme': { severity: 'error', spec: '17' },
  'redirect_uri.http_not_loopback': { severity: 'error', spec: '17' },
  'redirect_uri.private_scheme_without_period': { severity: 'error', spec: '17' },
  'redirect_uri.localhost': { severity: 'warning', spec: '17, 20' },
  'redirect_uri.cross_origin': { severity: 'warning', spec: '18' },
  'redirect_uri.private_scheme_not_client_domain': { severity: 'warning', spec: '17' },
  'redirect_uris.loopback_only': { severity: 'warning', spec: '20' },

  // Authorization decision for one request (SPEC-NOTES 8, 16-22)
  'request.invalid': { severity: 'decision', spec: '16' },
  'document.invalid': { severity: 'decision', spec: '8, 15' },
  'document.client_name_required': { severity: 'decision', spec: '12' },
  'redirect_uri.not_registered': { severity: 'decision', spec: '16' },
  'redirect_uri.loopback_not_allowed': { severity: 'decision', spec: '17' },
  'redirect_uri.private_scheme_not_allowed': { severity: 'decision', spec: '17' },
  'redirect_uri.cross_origin_not_allowed': { severity: 'decision', spec: '18' },
  'response_type.unsupported': { severity: 'decision', spec: 'RFC 6749 §4.1.2.1' },
  'response_type.not_registered': { severity: 'decision', spec: 'RFC 7591 §2.1' },
  'grant_type.not_registered': { severity: 'decision', spec: 'RFC 7591 §2.1' },
  'scope.not_registered': { severity: 'decision', spec: 'RFC 7591 §2' },
  'pkce.required': { severity: 'decision', spec: 'RFC 9700 §2.1.1' },
  'policy.host_denied': { severity: 'decision', spec: '18' },
  'policy.not_allowlisted': { severity: 'decision', spec: 'draft §6.10' },
  'client.first_seen_recently': { severity: 'warning', spec: '22' },
} as const satisfies Record<string, { severity: 'error' | 'warning' | 'decision'; spec: string }>;

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

/** Quote a value for a message without letting control characters or huge strings through. */
export function quote(value: string, max = 120): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}
