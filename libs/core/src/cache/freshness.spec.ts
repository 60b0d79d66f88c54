import type { CacheEntry } from './cache-entry';
import { freshness, freshnessLabel } from './freshness';

const T = 1_800_000_000_000;
const entry = (extra: Partial<CacheEntry> = {}): CacheEntry => ({
  v: 1,
  client_id: 'https://app.example/c.json',
  status: 'valid',
  fetched_at: T,
  refresh_at: T + 800,
  expires_at: T + 1000,
  ...extra,
});
const failedAfterExpiry = { last_error: { at: T + 1500, code: 'fetch.timeout' as const, message: 'timeout' } };

describe('freshness: how the authorize check treats a cached entry', () => {
  it.each<[string, CacheEntry, number, ReturnType<typeof freshness>]>([
    ['before refresh_at: served', entry(), T + 799, { state: 'fresh', refresh: false }],
    [
      'from refresh_at: served, refreshed in the background (refresh-ahead)',
      entry(),
      T + 800,
      { state: 'refresh_due', refresh: true },
    ],
    [
      'expired: fetched now, stale only until the window ends',
      entry(),
      T + 1000,
      { state: 'expired', refresh: true, staleUntil: T + 61_000 },
    ],
    [
      'expired and already failed since: served stale without waiting',
      entry(failedAfterExpiry),
      T + 2000,
      { state: 'stale', refresh: true },
    ],
    [
      'failed since expiry but past the window: fetched now',
      entry(failedAfterExpiry),
      T + 61_000,
      { state: 'expired', refresh: true, staleUntil: T + 61_000 },
    ],
    [
      'a failure before expiry does not make it stale',
      entry({ last_error: { at: T + 900, code: 'fetch.timeout', message: 'x' } }),
      T + 2000,
      { state: 'expired', refresh: true, staleUntil: T + 61_000 },
    ],
    [
      'gone, before its retry time: refused, not refetched',
      entry({ status: 'gone' }),
      T + 799,
      { state: 'refused', refresh: false },
    ],
    [
      'gone, from its retry time: refused, looked at again',
      entry({ status: 'gone' }),
      T + 800,
      { state: 'refused', refresh: true },
    ],
    [
      'invalid, from its retry time: refused, looked at again',
      entry({ status: 'invalid' }),
      T + 900,
      { state: 'refused', refresh: true },
    ],
  ])('%s', (_name, e, now, expected) => {
    expect(freshness(e, 60, now)).toEqual(expected);
  });

  it('labels an entry for operators', () => {
    expect([T, T + 800, T + 1000].map((now) => freshnessLabel(entry(), now))).toEqual([
      'fresh',
      'refresh_due',
      'expired',
    ]);
  });
});
