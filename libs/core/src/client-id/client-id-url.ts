import { CheckResult, Finding, FindingList, quote, RuleCode } from '../findings';
import {
  badPercentEncoding,
  describeCharacter,
  firstNonUriCharacter,
  isDotSegment,
  isIpLiteralHost,
  placeholderHint,
  splitUri,
  tryParseUrl,
} from '../uri/uri-parts';

/** client_id problems that mean the caller did not send a URL at all: a malformed request, not a decision. */
export const NOT_A_URL: ReadonlySet<RuleCode> = new Set<RuleCode>([
  'client_id.empty',
  'client_id.too_long',
  'client_id.invalid_character',
  'client_id.bad_percent_encoding',
  'client_id.not_absolute',
  'client_id.missing_host',
]);

/** The check's first problem when the client_id is not a URL at all (NOT_A_URL). */
export function notAUrl(check: ClientIdUrlCheck): Finding | undefined {
  const first = check.errors[0];
  return first && NOT_A_URL.has(first.code) ? first : undefined;
}

/** Longer identifiers are refused before any parsing: no real client_id comes close. */
export const CLIENT_ID_MAX_LENGTH = 2048;

/** A client_id that passed the URL rules. */
export interface ClientIdUrl {
  /** The identifier exactly as given: the only form ever compared (SPEC-NOTES 9). */
  value: string;
  /** Lower-cased host without port: what a consent screen shows and host policies match. */
  host: string;
  /** Explicit port, when the identifier names one. */
  port?: number;
  /** `https://host[:port]`, lower-cased, for same-origin comparisons. */
  origin: string;
}

export interface ClientIdUrlCheck extends CheckResult {
  url?: ClientIdUrl;
}

const REG_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;

/**
 * The client identifier URL rules of the draft (§3; SPEC-NOTES 1-3), checked on the raw
 * string. Parsing with WHATWG URL is used only to confirm that what we read is what a
 * fetcher will read.
 */
export function checkClientIdUrl(raw: unknown): ClientIdUrlCheck {
  const f = new FindingList();
  if (typeof raw !== 'string') {
    f.add('client_id.not_string', `client_id must be a string; found ${describeJsonType(raw)}.`);
    return f.result();
  }
  if (raw === '') {
    f.add('client_id.empty', 'client_id is empty; it must be an https URL.');
    return f.result();
  }
  if (raw.length > CLIENT_ID_MAX_LENGTH) {
    f.add(
      'client_id.too_long',
      `client_id is ${raw.length} characters long; at most ${CLIENT_ID_MAX_LENGTH} are accepted.`,
    );
    return f.result();
  }
  const bad = firstNonUriCharacter(raw);
  if (bad) {
    f.add(
      'client_id.invalid_character',
      `client_id contains ${describeCharacter(bad.char)} at position ${bad.index}, which is not allowed in a URL; ` +
        'percent-encode it or remove it.',
    );
    return f.result();
  }
  const parts = splitUri(raw);
  if (parts.scheme === undefined) {
    f.add(
      'client_id.not_absolute',
      `client_id ${quote(raw)} is not an absolute URL; it must start with https://.${placeholderHint(raw)}`,
    );
    return f.result();
  }
  if (parts.scheme.toLowerCase() !== 'https') {
    f.add('client_id.not_https', `client_id must use the https scheme; found ${quote(parts.scheme + ':')}.`);
    return f.result();
  }
  const badPct = badPercentEncoding(raw);
  if (badPct !== undefined) {
    f.add(
      'client_id.bad_percent_encoding',
      `client_id contains ${quote(badPct)}: a '%' must be followed by two hex digits.`,
    );
    return f.result();
  }
  if (parts.authority === undefined || parts.host === undefined || parts.host === '') {
    f.add('client_id.missing_host', `client_id ${quote(raw)} has no host; write it as https://host/path.`);
    return f.result();
  }
  if (parts.userinfo !== undefined) {
    f.add('client_id.userinfo', 'client_id must not contain a username or password (the part before "@" in the host).');
  }
  if (parts.fragment !== undefined) {
    f.add('client_id.fragment', `client_id must not contain a fragment; remove ${quote('#' + parts.fragment)}.`);
  }

  let port: number | undefined;
  let portOk = true;
  if (parts.port !== undefined) {
    port = /^\d{1,5}$/.test(parts.port) ? Number(parts.port) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      f.add('client_id.invalid_port', `client_id port ${quote(parts.port)} is not a number from 1 to 65535.`);
      port = undefined;
      portOk = false;
    }
  }

  const host = parts.host;
  const hostOk = host.startsWith('[') ? /^\[[0-9A-Fa-f:.]+\]$/.test(host) : REG_NAME.test(host);
  // A bad port already makes URL parsing fail; do not blame the host for it.
  const parsed = tryParseUrl(raw);
  if (!hostOk || (!parsed && portOk)) {
    f.add('client_id.invalid_host', `client_id host ${quote(host)} is not a valid host name or IP address.`);
  } else if (
    parsed &&
    parsed.hostname !== host.toLowerCase().replace(/\.$/, '') &&
    parsed.hostname !== host.toLowerCase()
  ) {
    // e.g. `0x7f.1` or `127.1`: URL parsers read these as 127.0.0.1, so the string names
    // a different host than it appears to.
    f.add(
      'client_id.invalid_host',
      `client_id host ${quote(host)} is read by URL parsers as ${quote(parsed.hostname)}; write the host in its plain form.`,
    );
  }

  const bareHost = host.toLowerCase().replace(/\.$/, '');
  if (bareHost === 'localhost' || bareHost.endsWith('.localhost')) {
    // RFC 6761 §6.3: these names always mean this machine; no remote client lives there.
    f.add(
      'client_id.localhost',
      `client_id host ${quote(host)} is a localhost name (RFC 6761), which always means this machine.`,
    );
  }

  if (parts.path === '') {
    f.add(
      'client_id.missing_path',
      `client_id ${quote(raw)} has no path; the metadata document must live at a path such as /oauth/client.json.`,
    );
  } else if (parts.path === '/') {
    f.add(
      'client_id.root_path',
      'client_id path is only "/"; a dedicated path such as /oauth/client.json is expected.',
    );
  }
  const dot = parts.path.split('/').find(isDotSegment);
  if (dot !== undefined) {
    f.add(
      'client_id.dot_segment',
      `client_id path contains the dot segment ${quote(dot)}; "." and ".." segments (also percent-encoded as %2e) are forbidden.`,
    );
  }
  if (parts.query !== undefined) {
    f.add('client_id.query', 'client_id contains a query string; the draft says it SHOULD NOT.');
  }

  const nonCanonical: string[] = [];
  if (parts.scheme !== 'https') nonCanonical.push(`the scheme is written ${quote(parts.scheme)}`);
  if (host !== host.toLowerCase()) nonCanonical.push(`the host has upper-case letters`);
  if (host.endsWith('.')) nonCanonical.push('the host ends with a dot');
  if (port === 443) nonCanonical.push('the default port 443 is written out');
  if (nonCanonical.length > 0) {
    f.add(
      'client_id.not_normalized',
      `client_id is not in normal form (${nonCanonical.join(', ')}); the document's client_id must repeat it exactly, character for character.`,
    );
  }
  if (hostOk && isIpLiteralHost(host)) {
    f.add('client_id.ip_address_host', `client_id uses the IP address ${host} instead of a host name.`);
  }

  if (!f.valid || !parsed) return f.result();
  const lowerHost = host.toLowerCase();
  const origin = `https://${lowerHost}${port !== undefined && port !== 443 ? `:${port}` : ''}`;
  const url: ClientIdUrl = { value: raw, host: lowerHost, origin };
  if (port !== undefined) url.port = port;
  return { ...f.result(), url };
}

export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}
