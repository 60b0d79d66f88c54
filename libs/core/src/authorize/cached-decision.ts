import type { CacheEntry } from '../cache/cache-entry';
import { freshness } from '../cache/freshness';
import { checkClientIdUrl, ClientIdUrlCheck } from '../client-id/client-id-url';
import type { DocumentCheck } from '../document/validate-document';
import { FetchAttempt, lastFailure } from '../fetch/fetch-attempt';
import { evaluateClientIdPolicy, TenantPolicy } from '../policy/tenant-policy';
import { AuthorizeDecision, AuthorizeRequest, decideAuthorization } from './authorize-decision';

/** A cache entry as the decision reads it: the validated document, or why there is none. */
export function documentCheckOf(entry: CacheEntry): DocumentCheck {
  return entry.status === 'valid' && entry.document
    ? {
        valid: true,
        errors: [],
        warnings: (entry.warnings ?? []).map((code) => ({ code, message: '' })),
        document: entry.document,
      }
    : { valid: false, errors: entry.errors ?? [], warnings: [] };
}

/** The decision on a cached entry (valid, invalid or gone) for one request of one tenant. */
export function decideOnCachedEntry(input: {
  request: AuthorizeRequest;
  urlCheck: ClientIdUrlCheck;
  entry: CacheEntry;
  policy: TenantPolicy;
  /** The gateway's URL of the entry's prefetched logo. */
  logoUrl?: string;
  now?: number;
}): AuthorizeDecision {
  const { entry, logoUrl } = input;
  return decideAuthorization({
    request: input.request,
    urlCheck: input.urlCheck,
    document: documentCheckOf(entry),
    policy: input.policy,
    ...(entry.first_seen_at !== undefined ? { firstSeenAt: entry.first_seen_at } : {}),
    ...(input.now !== undefined ? { now: input.now } : {}),
    logoUrl: () => logoUrl,
  });
}

/** Why a decision could not be made: the entry is missing or expired past its window, or Redis did not answer. */
export type PendingSituation = 'not_cached' | 'expired' | 'cache_unreachable';

const PENDING_DESCRIPTIONS: Record<PendingSituation, string> = {
  not_cached: "The client's metadata document could not be fetched in time",
  expired: "The client's metadata document has expired and could not be fetched again",
  cache_unreachable: 'The client cache is unreachable',
};

/**
 * `pending` (temporarily_unavailable), with what the client's attempt log says: the failure of
 * its last fetch, when that failed, and when a new check may get another answer (the retry or
 * the end of the cooldown), so that an AS can say more than "try again".
 */
export function pendingDecision(
  situation: PendingSituation,
  attempts: readonly FetchAttempt[],
  now: number,
): AuthorizeDecision {
  const failure = situation === 'cache_unreachable' ? undefined : lastFailure(attempts);
  const dueIn = failure?.next && failure.next.at > now ? Math.ceil((failure.next.at - now) / 1000) : undefined;
  let description = `${PENDING_DESCRIPTIONS[situation]}; try again shortly.`;
  if (failure) {
    const when =
      dueIn === undefined ? 'The next check starts a new attempt.' : `The next attempt is due in ${dueIn} s.`;
    description = `${PENDING_DESCRIPTIONS[situation]}: its last fetch failed with ${failure.code}, ${failure.message ?? ''}. ${when}`;
  }
  const decision: AuthorizeDecision = {
    decision: 'pending',
    error: 'temporarily_unavailable',
    error_description: description,
    reason: 'client.pending',
    retry_after_seconds: Math.max(1, dueIn ?? 1),
  };
  if (failure)
    decision.fetch_error = {
      code: failure.code,
      message: failure.message ?? '',
      at: new Date(failure.at).toISOString(),
    };
  return decision;
}

/** How the cache stood for a decision made without fetching (see decideFromCache). */
export type CacheReading = 'hit' | 'refreshing' | 'stale' | 'expired' | 'refused' | 'miss' | 'not_fetched';

/**
 * The decision an AS would get for `request` now, from what the cache and the attempt log hold,
 * without fetching anything or waiting: what an operator's console and a policy dry run show.
 * Where the authorize check would fetch (a miss, an expired entry), this says what it would
 * answer if that fetch failed like the last one.
 */
export function decideFromCache(input: {
  request: AuthorizeRequest;
  entry: CacheEntry | undefined;
  attempts: readonly FetchAttempt[];
  policy: TenantPolicy;
  now: number;
  logoUrl?: string;
  urlCheck?: ClientIdUrlCheck;
}): { decision: AuthorizeDecision; cache: CacheReading } {
  const { request, entry, policy, now } = input;
  const urlCheck = input.urlCheck ?? checkClientIdUrl(request.client_id);
  const refuse = () => ({
    decision: decideAuthorization({
      request,
      urlCheck,
      document: { valid: false, errors: urlCheck.url ? [] : urlCheck.errors, warnings: [] },
      policy,
    }),
    cache: 'not_fetched' as const,
  });
  // A client_id that is no URL, or one the tenant refuses, is never fetched.
  if (!urlCheck.url || evaluateClientIdPolicy(urlCheck.url, policy)) return refuse();
  if (!entry) return { decision: pendingDecision('not_cached', input.attempts, now), cache: 'miss' };
  const decide = () =>
    decideOnCachedEntry({
      request,
      urlCheck,
      entry,
      policy,
      now,
      ...(input.logoUrl !== undefined ? { logoUrl: input.logoUrl } : {}),
    });
  const state = freshness(entry, policy.stale_if_error_seconds, now);
  switch (state.state) {
    case 'refused':
      return { decision: decide(), cache: 'refused' };
    case 'fresh':
      return { decision: decide(), cache: 'hit' };
    case 'refresh_due':
      return { decision: decide(), cache: 'refreshing' };
    case 'stale':
    case 'expired': {
      if (state.state === 'expired' && now >= state.staleUntil)
        return { decision: pendingDecision('expired', input.attempts, now), cache: 'expired' };
      const decision = decide();
      decision.trust?.warnings.push('client.stale');
      return { decision, cache: state.state };
    }
  }
}
