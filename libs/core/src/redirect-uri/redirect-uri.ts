import { FindingList, quote } from '../findings';
import {
  badPercentEncoding,
  describeCharacter,
  firstNonUriCharacter,
  isLoopbackHost,
  placeholderHint,
  splitUri,
  tryParseUrl,
} from '../uri/uri-parts';

/**
 * How a redirect URI sends the user back: to a web origin (`https`), to a loopback listener
 * of a native app (`http` on 127.0.0.1, [::1] or localhost), or to a private-use URI scheme
 * claimed by an installed app (RFC 8252 §7.1).
 */
export type RedirectKind = 'web' | 'loopback' | 'private_use';

export interface RedirectTarget {
  kind: RedirectKind;
  scheme: string;
  /** Lower-cased host without port; absent for private-use schemes without one. */
  host?: string;
}

// Schemes that run code or read local data in the browser instead of navigating to an app.
const FORBIDDEN_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'file', 'blob', 'about', 'filesystem']);
const SCHEME_SYNTAX = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/**
 * Check one registered redirect URI (SPEC-NOTES 16-17) and classify it. Returns undefined
 * when the URI is unusable; the reasons are added to `findings`.
 */
export function checkRegisteredRedirectUri(
  raw: string,
  field: string,
  findings: FindingList,
  clientHost?: string,
): RedirectTarget | undefined {
  if (raw.includes('*')) {
    findings.add(
      'redirect_uri.wildcard',
      `${field} ${quote(raw)} contains a wildcard; redirect URIs are matched exactly (only a loopback port may vary), so list each URI in full.`,
      field,
    );
    return undefined;
  }
  const bad = firstNonUriCharacter(raw);
  if (bad) {
    findings.add(
      'redirect_uri.malformed',
      `${field} ${quote(raw)} contains ${describeCharacter(bad.char)} at position ${bad.index}, which is not allowed in a URI.`,
      field,
    );
    return undefined;
  }
  const parts = splitUri(raw);
  if (parts.scheme === undefined || !SCHEME_SYNTAX.test(parts.scheme)) {
    findings.add(
      'redirect_uri.not_absolute',
      `${field} ${quote(raw)} is not an absolute URI with a scheme.${placeholderHint(raw)}`,
      field,
    );
    return undefined;
  }
  const pct = badPercentEncoding(raw);
  if (pct !== undefined) {
    findings.add(
      'redirect_uri.malformed',
      `${field} ${quote(raw)} contains ${quote(pct)}; a '%' must be followed by two hex digits.`,
      field,
    );
    return undefined;
  }
  let usable = true;
  if (parts.fragment !== undefined) {
    findings.add('redirect_uri.fragment', `${field} ${quote(raw)} must not contain a fragment ("#…").`, field);
    usable = false;
  }
  const scheme = parts.scheme.toLowerCase();
  if (FORBIDDEN_SCHEMES.has(scheme)) {
    findings.add(
      'redirect_uri.forbidden_scheme',
      `${field} uses the ${scheme}: scheme, which is never a valid redirect target.`,
      field,
    );
    return undefined;
  }

  if (scheme === 'http' || scheme === 'https') {
    const parsed = tryParseUrl(raw);
    if (!parsed || !parts.host) {
      findings.add('redirect_uri.malformed', `${field} ${quote(raw)} is not a valid ${scheme} URL.`, field);
      return undefined;
    }
    if (parts.userinfo !== undefined) {
      findings.add('redirect_uri.userinfo', `${field} ${quote(raw)} must not contain a username or password.`, field);
      usable = false;
    }
    const host = parts.host.toLowerCase();
    const loopback = isLoopbackHost(host);
    if (scheme === 'http' && !loopback) {
      findings.add(
        'redirect_uri.http_not_loopback',
        `${field} ${quote(raw)} uses plain http on ${quote(host)}; http is allowed only for loopback (127.0.0.1, [::1], localhost). Use https.`,
        field,
      );
      usable = false;
    }
    if (!usable) return undefined;
    // Warnings only for URIs that can be used; a refused URI needs no further advice.
    if (host === 'localhost') {
      findings.add(
        'redirect_uri.localhost',
        `${field} ${quote(raw)} uses the name localhost; prefer 127.0.0.1 or [::1], because localhost can resolve to another address (RFC 8252 §8.3).`,
        field,
      );
    } else if (!loopback && clientHost !== undefined && host !== clientHost) {
      findings.add(
        'redirect_uri.cross_origin',
        `${field} sends users to ${quote(host)}, not to the client_id host ${quote(clientHost)}.`,
        field,
      );
    }
    return { kind: scheme === 'http' ? 'loopback' : 'web', scheme, host };
  }

  // Private-use scheme of a native app (RFC 8252 §7.1).
  if (!scheme.includes('.')) {
    findings.add(
      'redirect_uri.private_scheme_without_period',
      `${field} uses the private-use scheme ${quote(parts.scheme + ':')}, which has no period; use a reverse-domain scheme such as "com.example.app:" (RFC 8252 §7.1, §8.4).`,
      field,
    );
    return undefined;
  }
  if (clientHost !== undefined && !schemeBelongsToHost(scheme, clientHost)) {
    findings.add(
      'redirect_uri.private_scheme_not_client_domain',
      `${field} uses the scheme ${quote(scheme + ':')}, which is not the reversed client_id host ${quote(clientHost)}.`,
      field,
    );
  }
  if (!usable) return undefined;
  const target: RedirectTarget = { kind: 'private_use', scheme };
  if (parts.host) target.host = parts.host.toLowerCase();
  return target;
}

/** `io.github.rietamura` belongs to `rietamura.github.io`; a sub- or parent domain also counts. */
function schemeBelongsToHost(scheme: string, host: string): boolean {
  const domain = scheme.split('.').reverse().join('.');
  return domain === host || domain.endsWith(`.${host}`) || host.endsWith(`.${domain}`);
}

/** Classify a redirect URI that is already known to be registered (and so valid). */
export function redirectTargetOf(raw: string): RedirectTarget | undefined {
  return checkRegisteredRedirectUri(raw, 'redirect_uri', new FindingList());
}

/**
 * The registered redirect URI a request's redirect_uri matches, if any (SPEC-NOTES 16):
 * exact string comparison, except that the port of an http loopback URI is not compared
 * (RFC 8252 §7.3), so `http://127.0.0.1:49152/cb` matches a registered `http://127.0.0.1/cb`.
 */
export function matchRegisteredRedirectUri(requested: string, registered: readonly string[]): string | undefined {
  if (registered.includes(requested)) return requested;
  const key = loopbackKey(requested);
  if (key === undefined) return undefined;
  return registered.find((uri) => loopbackKey(uri) === key);
}

/** The URI as written with the port removed, for http loopback URIs only. */
function loopbackKey(raw: string): string | undefined {
  const p = splitUri(raw);
  if (p.scheme !== 'http' || p.host === undefined || p.userinfo !== undefined || p.fragment !== undefined)
    return undefined;
  if (!isLoopbackHost(p.host)) return undefined;
  if (p.port !== undefined && !/^\d{0,5}$/.test(p.port)) return undefined;
  return `http://${p.host}${p.path}${p.query !== undefined ? `?${p.query}` : ''}`;
}
