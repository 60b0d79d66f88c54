/**
 * Raw RFC 3986 view of a URI string. The WHATWG URL parser (`new URL`) normalizes what it
 * reads: it drops `.`/`..` and `%2e` segments, lower-cases scheme and host, reads `0x7f.1`
 * as 127.0.0.1 and turns `\` into `/`. Rules that the draft states about the string itself
 * (SPEC-NOTES 2) must look at the characters as written, so they use this splitter.
 */
export interface UriParts {
  scheme?: string;
  /** Everything between `//` and the path, when there is an authority. */
  authority?: string;
  userinfo?: string;
  /** Host as written: a reg-name, an IPv4 literal or a bracketed IP literal. */
  host?: string;
  /** Port as written, without the colon; `''` for a bare trailing colon. */
  port?: string;
  path: string;
  query?: string;
  fragment?: string;
}

// RFC 3986 Appendix B: the one regular expression every conforming reader agrees on.
const RFC3986_SPLIT = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;

export function splitUri(raw: string): UriParts {
  const m = RFC3986_SPLIT.exec(raw);
  // The expression matches every string; the guard only satisfies the type checker.
  if (!m) return { path: raw };
  const [, scheme, authority, path = '', query, fragment] = m;
  const parts: UriParts = { path };
  if (scheme !== undefined) parts.scheme = scheme;
  if (query !== undefined) parts.query = query;
  if (fragment !== undefined) parts.fragment = fragment;
  if (authority !== undefined) {
    parts.authority = authority;
    const at = authority.lastIndexOf('@');
    if (at >= 0) parts.userinfo = authority.slice(0, at);
    const hostPort = authority.slice(at + 1);
    if (hostPort.startsWith('[')) {
      const close = hostPort.indexOf(']');
      if (close < 0) {
        parts.host = hostPort;
      } else {
        parts.host = hostPort.slice(0, close + 1);
        const rest = hostPort.slice(close + 1);
        if (rest.startsWith(':')) parts.port = rest.slice(1);
        else if (rest !== '') parts.host = hostPort; // garbage after `]`: keep it visible as host
      }
    } else {
      const colon = hostPort.indexOf(':');
      if (colon >= 0) {
        parts.host = hostPort.slice(0, colon);
        parts.port = hostPort.slice(colon + 1);
      } else {
        parts.host = hostPort;
      }
    }
  }
  return parts;
}

const URI_CHARACTER = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;

/** First character that may not appear in a URI (RFC 3986 §2), with its position. */
export function firstNonUriCharacter(raw: string): { index: number; char: string } | undefined {
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i] as string;
    if (!URI_CHARACTER.test(char)) return { index: i, char };
  }
  return undefined;
}

/** A `%` not followed by two hex digits, as written, or undefined when all are well formed. */
export function badPercentEncoding(raw: string): string | undefined {
  const m = /%(?![0-9A-Fa-f]{2})[^%]{0,2}/.exec(raw);
  return m ? m[0] : undefined;
}

/** Describe a character for a message: printable ASCII as itself, anything else as U+XXXX. */
export function describeCharacter(char: string): string {
  const cp = char.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp > 0x20 && cp < 0x7f) return `'${char}' (${hex})`;
  if (cp === 0x20) return `a space (${hex})`;
  return hex;
}

/** A path segment that is `.` or `..`, counting percent-encoded dots (`%2e`, `%2E`). */
export function isDotSegment(segment: string): boolean {
  const decoded = segment.replace(/%2e/gi, '.');
  return decoded === '.' || decoded === '..';
}

/** Hosts whose redirect port is not compared (RFC 8252 §7.3; SPEC-NOTES 16). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === '127.0.0.1' || h === '[::1]' || h === 'localhost';
}

const IPV4_DOTTED = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpLiteralHost(host: string): boolean {
  return IPV4_DOTTED.test(host) || host.startsWith('[');
}

/** Parse with WHATWG URL without throwing. */
export function tryParseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** Template placeholders left in published documents (`%BASE_URL%`, `{{host}}`, `${HOST}`). */
export function placeholderHint(raw: string): string {
  return /%[A-Z][A-Z0-9_]*%|\{\{[^}]*\}\}|\$\{[^}]*\}/.test(raw)
    ? ' It looks like a template placeholder that was never replaced.'
    : '';
}
