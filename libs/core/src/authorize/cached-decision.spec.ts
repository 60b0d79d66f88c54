import type { CacheEntry } from '../cache/cache-entry';
import type { FetchAttempt } from '../fetch/fetch-attempt';
import { DEFAULT_TENANT_POLICY, TenantPolicySchema } from '../policy/tenant-policy';
import { decideFromCache, pendingDecision } from './cached-decision';

const T = 1_800_000_000_000;
const ID = 'https://app.example/client.json';
const request = { client_id: ID, redirect_uri: 'https://app.example/callback', code_challenge_method: 'S256' };
const valid = (extra: Partial<CacheEntry> = {}): CacheEntry => ({
  v: 1,
  client_id: ID,
  status: 'valid',
  document: {
    client_id: ID,
    client_name: 'App',
    redirect_uris: ['https://app.example/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    application_type: 'web',
  },
  fetched_at: T - 1000,
  first_seen_at: T - 10 * 86_400_000,
  refresh_at: T + 60_000,
  expires_at: T + 120_000,
  ...extra,
});
const dnsFailure: FetchAttempt = {
  at: T - 3000,
  reason: 'miss',
  attempt: 2,
  outcome: 'transient',
  code: 'fetch.dns_failed',
  message: 'app.example did not resolve',
  duration_ms: 20,
  next: { kind: 'retry', at: T + 4200 },
};

describe('pendingDecision: a pending answer says why and when to ask again (SPEC-NOTES 8)', () => {
  it('carries the last fetch failure and the seconds until the next attempt', () => {
    const d = pendingDecision('not_cached', [dnsFailure], T);
    expect(d).toMatchObject({
      decision: 'pending',
      error: 'temporarily_unavailable',
      reason: 'client.pending',
      fetch_error: {
        code: 'fetch.dns_failed',
        message: 'app.example did not resolve',
        at: new Date(T - 3000).toISOString(),
      },
      retry_after_seconds: 5,
    });
    expect(d.error_description).toContain('fetch.dns_failed');
    expect(d.error_description).toContain('due in 5 s');
  });

  it('without a failed attempt (still fetching, or the last one succeeded): no fetch_error, retry in a second', () => {
    const ok: FetchAttempt = { at: T, reason: 'miss', attempt: 1, outcome: 'ok', duration_ms: 5 };
    for (const attempts of [[], [ok, dnsFailure]]) {
      const d = pendingDecision('not_cached', attempts, T);
      expect(d.fetch_error).toBeUndefined();
      expect(d.retry_after_seconds).toBe(1);
    }
  });

  it('an attempt whose next try is past: the next check starts one', () => {
    const d = pendingDecision('expired', [dnsFailure], T + 60_000);
    expect(d.retry_after_seconds).toBe(1);
    expect(d.error_description).toContain('The next check starts a new attempt.');
  });

  it('the cache unreachable: nothing about fetches is claimed', () => {
    expect(pendingDecision('cache_unreachable', [dnsFailure], T).fetch_error).toBeUndefined();
  });
});

describe('decideFromCache: the decision without fetching (console, dry run)', () => {
  const decide = (entry: CacheEntry | undefined, policy = DEFAULT_TENANT_POLICY, attempts: FetchAttempt[] = []) =>
    decideFromCache({ request, entry, attempts, policy, now: T });

  it('a fresh valid entry: allow, cache hit', () => {
    expect(decide(valid())).toMatchObject({ decision: { decision: 'allow' }, cache: 'hit' });
  });

  it('no entry: pending with the last failure (a miss)', () => {
    expect(decide(undefined, DEFAULT_TENANT_POLICY, [dnsFailure])).toMatchObject({
      decision: { decision: 'pending', fetch_error: { code: 'fetch.dns_failed' } },
      cache: 'miss',
    });
  });

  it('a host the policy denies is never fetched: denied before the cache is read', () => {
    const policy = TenantPolicySchema.parse({ deny_hosts: ['app.example'] });
    expect(decide(undefined, policy)).toMatchObject({
      decision: { decision: 'deny', reason: 'policy.host_denied' },
      cache: 'not_fetched',
    });
  });

  it('an invalid entry: denied with its reason', () => {
    const entry: CacheEntry = {
      ...valid(),
      status: 'invalid',
      document: undefined,
      errors: [{ code: 'document.redirect_uris_missing', message: 'no redirect_uris' }],
    };
    expect(decide(entry)).toMatchObject({
      decision: { decision: 'deny', reason: 'document.invalid' },
      cache: 'refused',
    });
  });

  it('expired inside the stale-if-error window: allowed, marked stale; past it: pending', () => {
    const expired = valid({ refresh_at: T - 2000, expires_at: T - 1000 });
    const stale = decide(expired);
    expect(stale.cache).toBe('expired');
    expect(stale.decision.trust?.warnings).toContain('client.stale');
    const policy = TenantPolicySchema.parse({ stale_if_error_seconds: 0 });
    expect(decide(expired, policy)).toMatchObject({ decision: { decision: 'pending' }, cache: 'expired' });
  });
});
