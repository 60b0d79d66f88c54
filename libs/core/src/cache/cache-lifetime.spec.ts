import { CacheBounds, cacheLifetime, CacheLifetime, DEFAULT_CACHE_BOUNDS, HttpHeaders } from './cache-lifetime';

/**
 * Every case runs at a fixed instant, and every response carries a `Date` equal to it unless
 * the case is about something else, so nothing here depends on the wall clock.
 */
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const httpDate = (offsetSeconds: number): string => new Date(NOW + offsetSeconds * 1000).toUTCString();
const DATE = httpDate(0);

/** Each `rule` must cite the requirement the expectation comes from. */
const CITES = /SPEC-NOTES 1[45]|RFC 9111 §/;

interface LifetimeCase {
  name: string;
  rule: string;
  headers: HttpHeaders;
  bounds?: Partial<CacheBounds>;
  ttlSeconds: number;
  source: CacheLifetime['source'];
  clamped?: CacheLifetime['clamped'];
}

const lifetimeCases: LifetimeCase[] = [
  // The response states a 600 s lifetime, well inside [60, 86400]: taken as is.
  {
    name: 'max-age=600',
    rule: 'RFC 9111 §5.2.2.1 (max-age); SPEC-NOTES 14',
    headers: { 'cache-control': 'max-age=600', date: DATE },
    ttlSeconds: 600,
    source: 'headers',
  },
  // We are a shared cache (many tenants behind one server), and for a shared cache s-maxage
  // overrides both max-age and Expires.
  {
    name: 's-maxage=300, max-age=600',
    rule: 'RFC 9111 §5.2.2.10 (s-maxage), §4.2.1',
    headers: { 'cache-control': 's-maxage=300, max-age=600', date: DATE },
    ttlSeconds: 300,
    source: 'headers',
  },
  // No Cache-Control, no Expires, no Last-Modified, not even a Date: the response says nothing
  // about freshness, so the server's default applies and is reported as such.
  {
    name: 'no caching headers at all',
    rule: 'SPEC-NOTES 14 (server default when the headers say nothing)',
    headers: { 'content-type': 'application/json' },
    ttlSeconds: 3600,
    source: 'default',
  },
  // no-store forbids storing; honouring it literally would refetch on every request and make
  // us a traffic reflector, so the lower bound applies and the result says it was clamped.
  {
    name: 'no-store',
    rule: 'RFC 9111 §5.2.2.5 (no-store); SPEC-NOTES 14 (lower bound)',
    headers: { 'cache-control': 'no-store', date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // no-cache allows storing but not reuse without revalidation: a zero freshness lifetime,
  // raised to the lower bound.
  {
    name: 'no-cache',
    rule: 'RFC 9111 §5.2.2.4 (no-cache); SPEC-NOTES 14 (lower bound)',
    headers: { 'cache-control': 'no-cache', date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // max-age=0 is an explicit zero lifetime (not "no information"): lower bound, clamped.
  {
    name: 'max-age=0',
    rule: 'RFC 9111 §5.2.2.1 (max-age); SPEC-NOTES 14 (lower bound)',
    headers: { 'cache-control': 'max-age=0', date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // A stated lifetime under the lower bound is raised to it.
  {
    name: 'max-age=10',
    rule: 'SPEC-NOTES 14 (lower bound); RFC 9111 §5.2.2.1',
    headers: { 'cache-control': 'max-age=10', date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // About 11.6 days asked; never more than 24 h (MCP's suggested upper bound).
  {
    name: 'max-age=1000000',
    rule: 'SPEC-NOTES 14 (upper bound, at most 24 h); RFC 9111 §5.2.2.1',
    headers: { 'cache-control': 'max-age=1000000', date: DATE },
    ttlSeconds: 86400,
    source: 'headers',
    clamped: 'max',
  },
  // Without max-age, the lifetime is Expires minus Date: two hours.
  {
    name: 'Expires two hours after Date',
    rule: 'RFC 9111 §5.3 (Expires), §4.2.1 (Expires - Date)',
    headers: { expires: httpDate(7200), date: DATE },
    ttlSeconds: 7200,
    source: 'headers',
  },
  // An Expires before Date means already stale: an explicit zero lifetime, not "no
  // information", so the lower bound applies rather than the default.
  {
    name: 'Expires in the past',
    rule: 'RFC 9111 §5.3 (Expires), §4.2.1; SPEC-NOTES 14 (lower bound)',
    headers: { expires: httpDate(-3600), date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // "A cache recipient MUST interpret invalid date formats, especially the value '0', as
  // representing a time in the past": stale, hence the lower bound.
  {
    name: 'Expires: 0 (invalid date)',
    rule: 'RFC 9111 §5.3 (invalid Expires means already expired); SPEC-NOTES 14',
    headers: { expires: '0', date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // The copy was already 100 s old when it reached us (Age): 600 - 100 s of freshness remain.
  {
    name: 'Age: 100 with max-age=600',
    rule: 'RFC 9111 §5.1 (Age), §4.2.3 (calculating age), §4.2 (remaining freshness)',
    headers: { 'cache-control': 'max-age=600', age: '100', date: DATE },
    ttlSeconds: 500,
    source: 'headers',
  },
  // private: a shared cache MUST NOT store the response, whatever max-age says, so it gets the
  // shortest lifetime we allow rather than 600 s.
  {
    name: 'private, max-age=600',
    rule: 'RFC 9111 §5.2.2.7 (private), §3 (shared caches); SPEC-NOTES 14 (lower bound)',
    headers: { 'cache-control': 'private, max-age=600', date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // Heuristic freshness (a fraction of the time since Last-Modified) is allowed by RFC 9111
  // but not used here: a document modified a year ago would otherwise get 10% of a year,
  // clamped to 24 h. The response states no lifetime, so the default applies.
  {
    name: 'only Last-Modified, long ago',
    rule: 'RFC 9111 §4.2.2 (heuristic freshness is optional); SPEC-NOTES 14 (default)',
    headers: { 'last-modified': httpDate(-365 * 86_400), date: DATE },
    ttlSeconds: 3600,
    source: 'default',
  },
  // public only says a response may be stored; it states no lifetime.
  {
    name: 'public alone',
    rule: 'RFC 9111 §5.2.2.9 (public states no lifetime); SPEC-NOTES 14 (default)',
    headers: { 'cache-control': 'public', date: DATE },
    ttlSeconds: 3600,
    source: 'default',
  },
  // Custom bounds: min 10, max 100, default 50.
  // Nothing stated: the custom default.
  {
    name: 'custom bounds, no caching headers',
    rule: 'SPEC-NOTES 14 (server-chosen default)',
    headers: { date: DATE },
    bounds: { minSeconds: 10, maxSeconds: 100, defaultSeconds: 50 },
    ttlSeconds: 50,
    source: 'default',
  },
  // Below the custom minimum: raised to 10.
  {
    name: 'custom bounds, max-age=5',
    rule: 'SPEC-NOTES 14 (server-chosen lower bound)',
    headers: { 'cache-control': 'max-age=5', date: DATE },
    bounds: { minSeconds: 10, maxSeconds: 100, defaultSeconds: 50 },
    ttlSeconds: 10,
    source: 'headers',
    clamped: 'min',
  },
  // Inside the custom bounds: taken as is (would be clamped to 60 with the default bounds).
  {
    name: 'custom bounds, max-age=30',
    rule: 'SPEC-NOTES 14; RFC 9111 §5.2.2.1',
    headers: { 'cache-control': 'max-age=30', date: DATE },
    bounds: { minSeconds: 10, maxSeconds: 100, defaultSeconds: 50 },
    ttlSeconds: 30,
    source: 'headers',
  },
  // Above the custom maximum: lowered to 100.
  {
    name: 'custom bounds, max-age=500',
    rule: 'SPEC-NOTES 14 (server-chosen upper bound)',
    headers: { 'cache-control': 'max-age=500', date: DATE },
    bounds: { minSeconds: 10, maxSeconds: 100, defaultSeconds: 50 },
    ttlSeconds: 100,
    source: 'headers',
    clamped: 'max',
  },
  // Field names are case-insensitive (RFC 9110 §5.1); callers may pass them as sent on the wire.
  {
    name: 'header names in mixed case',
    rule: 'RFC 9111 §5.2 (Cache-Control), field names case-insensitive per RFC 9110 §5.1',
    headers: { 'Cache-Control': 'max-age=600', Date: DATE },
    ttlSeconds: 600,
    source: 'headers',
  },
  // Mixed-case names must not hide a prohibition either: `Cache-Control: no-store` still wins.
  {
    name: 'header names in mixed case, no-store',
    rule: 'RFC 9111 §5.2.2.5 (no-store); SPEC-NOTES 14 (lower bound)',
    headers: { 'CACHE-CONTROL': 'no-store', DATE: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // Directive names are compared case-insensitively too: `No-Store` is no-store, and must not
  // be mistaken for "no information" (which would cache it for the 1 h default).
  {
    name: 'directive names in mixed case (No-Store)',
    rule: 'RFC 9111 §5.2 (directives compared case-insensitively), §5.2.2.5',
    headers: { 'cache-control': 'No-Store', date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
  // Same for a directive with an argument: `Max-Age=600` is max-age=600.
  {
    name: 'directive names in mixed case (Max-Age=600)',
    rule: 'RFC 9111 §5.2 (directives compared case-insensitively), §5.2.2.1',
    headers: { 'cache-control': 'Max-Age=600', date: DATE },
    ttlSeconds: 600,
    source: 'headers',
  },
  // A field sent on several lines is one comma-separated list (RFC 9110 §5.3): the array form
  // the HttpHeaders type allows must mean the same as 'public, max-age=600'.
  {
    name: 'Cache-Control given as several field lines',
    rule: 'RFC 9111 §5.2 (Cache-Control is a list); SPEC-NOTES 14',
    headers: { 'cache-control': ['public', 'max-age=600'], date: DATE },
    ttlSeconds: 600,
    source: 'headers',
  },
  // Two Expires values make the freshness information invalid, and a cache should then treat
  // the response as stale: the lower bound, not the later of the two dates and not the default.
  {
    name: 'two Expires field lines',
    rule: 'RFC 9111 §4.2.1 (more than one value is invalid; consider stale); SPEC-NOTES 14',
    headers: { expires: [httpDate(7200), httpDate(3600)], date: DATE },
    ttlSeconds: 60,
    source: 'headers',
    clamped: 'min',
  },
];

describe('cacheLifetime', () => {
  it.each(lifetimeCases)('$name → $ttlSeconds s ($rule)', ({ rule, headers, bounds, ttlSeconds, source, clamped }) => {
    expect(rule).toMatch(CITES);
    const result = cacheLifetime({ status: 200, headers }, { now: NOW, ...(bounds ? { bounds } : {}) });
    expect(result.ttlSeconds).toBe(ttlSeconds);
    expect(result.source).toBe(source);
    if (clamped) expect(result.clamped).toBe(clamped);
    else expect(result).not.toHaveProperty('clamped');
    expect(result.fetchedAt).toBe(NOW);
    expect(result.expiresAt).toBe(NOW + ttlSeconds * 1000);
  });

  interface TimestampCase {
    name: string;
    rule: string;
    headers: HttpHeaders;
    bounds?: Partial<CacheBounds>;
    fetchedAt: number;
    refreshAt: number;
    expiresAt: number;
  }

  const timestampCases: TimestampCase[] = [
    // Default ratio 0.8: refresh starts after 480 of 600 s; the copy expires at 600 s.
    {
      name: 'default refresh-ahead ratio (0.8)',
      rule: 'SPEC-NOTES 14 (refresh ahead within the lifetime)',
      headers: { 'cache-control': 'max-age=600', date: DATE },
      fetchedAt: NOW,
      refreshAt: NOW + 480_000,
      expiresAt: NOW + 600_000,
    },
    // The ratio applies to the default lifetime too: 0.8 × 3600 s = 2880 s.
    {
      name: 'default ratio on the default lifetime',
      rule: 'SPEC-NOTES 14',
      headers: {},
      fetchedAt: NOW,
      refreshAt: NOW + 2_880_000,
      expiresAt: NOW + 3_600_000,
    },
    // A custom ratio of 0.5 refreshes half-way through.
    {
      name: 'custom refreshAheadRatio 0.5',
      rule: 'SPEC-NOTES 14',
      headers: { 'cache-control': 'max-age=600', date: DATE },
      bounds: { refreshAheadRatio: 0.5 },
      fetchedAt: NOW,
      refreshAt: NOW + 300_000,
      expiresAt: NOW + 600_000,
    },
    // Ratio 1 (the largest allowed) means no refresh ahead: refresh when the copy expires.
    {
      name: 'refreshAheadRatio 1',
      rule: 'SPEC-NOTES 14',
      headers: { 'cache-control': 'max-age=600', date: DATE },
      bounds: { refreshAheadRatio: 1 },
      fetchedAt: NOW,
      refreshAt: NOW + 600_000,
      expiresAt: NOW + 600_000,
    },
    // Timestamps follow the clamped lifetime, not the stated one: 60 s, refresh at 48 s.
    {
      name: 'timestamps after clamping to the minimum',
      rule: 'SPEC-NOTES 14 (lower bound); RFC 9111 §5.2.2.5',
      headers: { 'cache-control': 'no-store', date: DATE },
      fetchedAt: NOW,
      refreshAt: NOW + 48_000,
      expiresAt: NOW + 60_000,
    },
  ];

  it.each(timestampCases)('$name ($rule)', ({ rule, headers, bounds, fetchedAt, refreshAt, expiresAt }) => {
    expect(rule).toMatch(CITES);
    const result = cacheLifetime({ status: 200, headers }, { now: NOW, ...(bounds ? { bounds } : {}) });
    expect(result.fetchedAt).toBe(fetchedAt);
    expect(result.refreshAt).toBe(refreshAt);
    expect(result.expiresAt).toBe(expiresAt);
    // expiresAt is always now + ttl, in milliseconds.
    expect(result.expiresAt).toBe(NOW + result.ttlSeconds * 1000);
  });

  interface InvalidBoundsCase {
    name: string;
    rule: string;
    bounds: Partial<CacheBounds>;
  }

  const invalidBoundsCases: InvalidBoundsCase[] = [
    // A minimum above the maximum leaves no valid lifetime.
    {
      name: 'min > max',
      rule: 'SPEC-NOTES 14 (lower bound <= upper bound)',
      bounds: { minSeconds: 200, maxSeconds: 100, defaultSeconds: 150 },
    },
    // The default must itself lie within the bounds.
    {
      name: 'default above max',
      rule: 'SPEC-NOTES 14',
      bounds: { minSeconds: 10, maxSeconds: 100, defaultSeconds: 500 },
    },
    // Ratio 0 would refresh immediately, on every read.
    { name: 'refreshAheadRatio 0', rule: 'SPEC-NOTES 14', bounds: { refreshAheadRatio: 0 } },
    // Ratio above 1 would refresh only after the copy has expired.
    { name: 'refreshAheadRatio 1.5', rule: 'SPEC-NOTES 14', bounds: { refreshAheadRatio: 1.5 } },
  ];

  it.each(invalidBoundsCases)('rejects invalid bounds: $name ($rule)', ({ rule, bounds }) => {
    expect(rule).toMatch(CITES);
    expect(() =>
      cacheLifetime({ status: 200, headers: { 'cache-control': 'max-age=600', date: DATE } }, { now: NOW, bounds }),
    ).toThrow(RangeError);
  });

  it('leaves DEFAULT_CACHE_BOUNDS at 60 s … 24 h, default 1 h, ratio 0.8', () => {
    // SPEC-NOTES 14: the rows above rely on these values.
    expect(DEFAULT_CACHE_BOUNDS).toEqual({
      minSeconds: 60,
      maxSeconds: 86_400,
      defaultSeconds: 3_600,
      refreshAheadRatio: 0.8,
    });
  });
});
