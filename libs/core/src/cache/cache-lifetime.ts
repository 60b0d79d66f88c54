import CachePolicy from 'http-cache-semantics';

/** The server's own limits around what HTTP caching headers ask for (SPEC-NOTES 14). */
export interface CacheBounds {
  /** Never cache for less, even on `no-store` or `max-age=0`: refetching on every request would make us a traffic reflector. */
  minSeconds: number;
  /** Never cache for more (MCP suggests at most 24 h). */
  maxSeconds: number;
  /** Used when the response says nothing about freshness. */
  defaultSeconds: number;
  /** Fraction of the lifetime after which a refresh is started while the copy is still served. */
  refreshAheadRatio: number;
}

export const DEFAULT_CACHE_BOUNDS: CacheBounds = {
  minSeconds: 60,
  maxSeconds: 86_400,
  defaultSeconds: 3_600,
  refreshAheadRatio: 0.8,
};

export type HttpHeaders = Record<string, string | string[] | undefined>;

export interface CacheLifetime {
  ttlSeconds: number;
  /** `headers` when the response stated a freshness lifetime, `default` when it said nothing. */
  source: 'headers' | 'default';
  /** Set when the stated lifetime was outside the bounds. */
  clamped?: 'min' | 'max';
  fetchedAt: number;
  refreshAt: number;
  expiresAt: number;
}

export function assertValidCacheBounds(b: CacheBounds): void {
  if (!(b.minSeconds >= 0 && b.minSeconds <= b.defaultSeconds && b.defaultSeconds <= b.maxSeconds)) {
    throw new RangeError(
      `cache bounds must satisfy 0 <= min (${b.minSeconds}) <= default (${b.defaultSeconds}) <= max (${b.maxSeconds})`,
    );
  }
  if (!(b.refreshAheadRatio > 0 && b.refreshAheadRatio <= 1)) {
    throw new RangeError(`refreshAheadRatio must be in (0, 1]; got ${b.refreshAheadRatio}`);
  }
}

/**
 * How long a fetched document may be served, from its response headers (RFC 9111 through
 * http-cache-semantics, as a shared cache) clamped to the server's bounds.
 */
export function cacheLifetime(
  response: { status: number; headers: HttpHeaders },
  options: { now: number; bounds?: Partial<CacheBounds>; requestHeaders?: HttpHeaders },
): CacheLifetime {
  const bounds: CacheBounds = { ...DEFAULT_CACHE_BOUNDS, ...options.bounds };
  assertValidCacheBounds(bounds);
  const now = options.now;
  const request = { method: 'GET', headers: options.requestHeaders ?? { accept: 'application/json' } };
  const headers = normalizeHeaders(response.headers);

  // The clock is an argument so the function stays pure; the library reads it through now().
  class PolicyAt extends CachePolicy {
    now(): number {
      return now;
    }
  }
  const freshness = (h: HttpHeaders): number => {
    // No heuristic freshness from Last-Modified: "says nothing" must mean the default.
    const p = new PolicyAt(request, { status: response.status, headers: h }, { shared: true, cacheHeuristic: 0 });
    return Math.max(0, p.maxAge() - p.age());
  };

  let seconds = freshness(headers);
  let source: CacheLifetime['source'] = 'headers';
  if (seconds === 0 && headers.expires === undefined) {
    // Zero means either "do not reuse" (no-store, no-cache, max-age=0, private…) or "no
    // freshness information". A far Expires changes the answer only in the second case,
    // since every explicit directive overrides Expires.
    const probe = freshness({ ...headers, expires: new Date(now + 365 * 86_400_000).toUTCString() });
    if (probe > 0) source = 'default';
  }

  let clamped: CacheLifetime['clamped'];
  if (source === 'default') {
    seconds = bounds.defaultSeconds;
  } else if (seconds < bounds.minSeconds) {
    seconds = bounds.minSeconds;
    clamped = 'min';
  } else if (seconds > bounds.maxSeconds) {
    seconds = bounds.maxSeconds;
    clamped = 'max';
  }
  const ttlSeconds = Math.round(seconds);
  const result: CacheLifetime = {
    ttlSeconds,
    source,
    fetchedAt: now,
    refreshAt: now + Math.round(ttlSeconds * bounds.refreshAheadRatio * 1000),
    expiresAt: now + ttlSeconds * 1000,
  };
  if (clamped) result.clamped = clamped;
  return result;
}

/**
 * Lower-case field names; join a field sent on several lines into one list (RFC 9110 §5.3), which
 * the library needs as a string; lower-case Cache-Control, whose directives are case-insensitive
 * (RFC 9111 §5.2) but which the library compares as written.
 */
function normalizeHeaders(headers: HttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const name = k.toLowerCase();
    const value = Array.isArray(v) ? v.join(', ') : v;
    out[name] = name === 'cache-control' ? value.toLowerCase() : value;
  }
  return out;
}
