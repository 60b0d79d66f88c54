import { documentChanges } from '../document/document-changes';
import { ClientEvent, clientEvent } from '../events/client-event';
import type { DocumentChange } from '../document/document-changes';
import type { FetchOutcome, KeySetOutcome } from '../fetch/fetch-outcome';
import type { RuleCode } from '../findings';
import type { CacheEntry } from './cache-entry';
import type { CacheLifetime } from './cache-lifetime';

/** The deployment's settings the transitions depend on. */
export interface TransitionSettings {
  /** A valid client that answers 404/410 or breaks is confirmed by a second fetch this long after the first. */
  goneConfirmDelayMs: number;
  /** A refused (invalid or gone) client is fetched again no sooner than this. */
  refusedRetrySeconds: number;
  /** An entry is kept in Redis this long past its expiry, for the gateway's stale-if-error window. */
  staleRetentionSeconds: number;
  /** Fraction of a lifetime after which the entry is refreshed ahead of its expiry. */
  refreshAheadRatio: number;
}

/** The document's logo: stored (by its hash, with when it was fetched), unavailable, or none declared. */
export type LogoResult = { sha256: string; content_type: string; fetched_at?: number } | 'unavailable' | undefined;

/** What the fetcher does with a fetch's outcome, decided without I/O. */
export type CacheTransition =
  /** Write `entry` for `ttlMs` and append `events`, together or not at all. */
  | {
      kind: 'write';
      entry: CacheEntry;
      ttlMs: number;
      events: ClientEvent[];
      outcome: FetchOutcome['outcome'];
    }
  /** A valid client answered 404/410 or broke once: keep serving it, marked, and look again in `confirmInMs`. */
  | { kind: 'suspect'; entry: CacheEntry; confirmInMs: number; outcome: FetchOutcome['outcome'] }
  /**
   * Nothing definitive: keep the last good copy (with `entry`, the note of the error, when there
   * is a copy to note it on) and retry with backoff, no sooner than `retryAfterMs`.
   */
  | { kind: 'retry'; entry?: CacheEntry; message: string; retryAfterMs?: number };

export interface TransitionInput {
  previous: CacheEntry | undefined;
  clientId: string;
  outcome: FetchOutcome;
  now: number;
  settings: TransitionSettings;
  /** Whenever the document (new or revalidated) declares a logo: what the fetcher holds of it. */
  logo?: LogoResult;
  /** Event ids (random in production, fixed in tests). */
  newId: () => string;
}

/**
 * The client's next cache entry and events after one fetch: valid → suspect → gone or invalid,
 * refused → restored, valid → changed, revalidated by a 304, or a transient failure noted.
 */
export function nextCacheEntry(input: TransitionInput): CacheTransition {
  const { previous, outcome, now } = input;
  switch (outcome.outcome) {
    case 'transient': {
      const error = outcome.errors[0];
      const noted: CacheEntry | undefined =
        previous && error
          ? { ...previous, last_error: { at: now, code: error.code, message: error.message } }
          : undefined;
      return {
        kind: 'retry',
        ...(noted ? { entry: noted } : {}),
        message: error?.message ?? 'transient failure',
        ...(outcome.retryAfterSeconds !== undefined ? { retryAfterMs: outcome.retryAfterSeconds * 1000 } : {}),
      };
    }
    case 'not_modified':
      // A 304 without a validated copy extends nothing (SPEC-NOTES 4): fetch it whole next time.
      if (previous?.status !== 'valid') return { kind: 'retry', message: '304 Not Modified without a validated copy' };
      return revalidated(input, previous, outcome);
    case 'ok':
      return validDocument(input, outcome);
    default:
      return refused(input, outcome);
  }
}

function revalidated(
  { now, settings, newId, logo }: TransitionInput,
  previous: CacheEntry,
  outcome: Extract<FetchOutcome, { outcome: 'not_modified' }>,
): CacheTransition {
  const lifetime = keptLifetime(outcome.lifetime, previous.ttl_seconds, settings);
  const { last_error: _error, suspect: _suspect, ...kept } = previous;
  const entry: CacheEntry = {
    ...kept,
    fetched_at: lifetime.fetchedAt,
    refresh_at: lifetime.refreshAt,
    expires_at: lifetime.expiresAt,
    ttl_seconds: lifetime.ttlSeconds,
  };
  if (outcome.validators.etag) entry.etag = outcome.validators.etag;
  if (outcome.validators.lastModified) entry.last_modified = outcome.validators.lastModified;
  const warnings = new Set(entry.warnings ?? []);
  if (setLogo(entry, logo) === 'unavailable') warnings.add('logo.unavailable');
  else warnings.delete('logo.unavailable');
  if (warnings.size > 0) entry.warnings = [...warnings];
  else delete entry.warnings;
  carryKeys(entry, previous, now);
  const at = () => ({ id: newId(), now });
  const events: ClientEvent[] = [];
  events.push(
    clientEvent(
      'client.fetched',
      previous.client_id,
      {
        revalidated: true,
        ...(previous.raw_hash ? { raw_hash: previous.raw_hash } : {}),
        expires_at: entry.expires_at,
      },
      at(),
    ),
  );
  return {
    kind: 'write',
    entry,
    ttlMs: retentionMs(entry.expires_at, now, settings),
    events,
    outcome: 'not_modified',
  };
}

function validDocument(
  { previous, clientId, now, settings, logo, newId }: TransitionInput,
  outcome: Extract<FetchOutcome, { outcome: 'ok' }>,
): CacheTransition {
  const { lifetime, document } = outcome;
  const entry: CacheEntry = {
    v: 1,
    client_id: clientId,
    status: 'valid',
    document,
    raw_hash: outcome.rawHash,
    fetched_at: lifetime.fetchedAt,
    first_seen_at: previous?.first_seen_at ?? lifetime.fetchedAt,
    refresh_at: lifetime.refreshAt,
    expires_at: lifetime.expiresAt,
    ttl_seconds: lifetime.ttlSeconds,
  };
  const warnings = new Set<RuleCode>(outcome.warnings.map((w) => w.code));
  if (outcome.validators.etag) entry.etag = outcome.validators.etag;
  if (outcome.validators.lastModified) entry.last_modified = outcome.validators.lastModified;
  if (setLogo(entry, logo) === 'unavailable') warnings.add('logo.unavailable');
  if (warnings.size > 0) entry.warnings = [...warnings];
  carryKeys(entry, previous, now);

  const at = () => ({ id: newId(), now });
  const events: ClientEvent[] = [];
  if (previous?.status === 'invalid' || previous?.status === 'gone') {
    events.push(clientEvent('client.restored', clientId, { previous_status: previous.status }, at()));
  }
  if (previous?.status === 'valid' && previous.document) {
    const changes: DocumentChange[] =
      previous.raw_hash !== outcome.rawHash ? documentChanges(previous.document, document) : [];
    if (changes.length > 0)
      events.push(clientEvent('client.changed', clientId, { changes, raw_hash: outcome.rawHash }, at()));
  }
  events.push(
    clientEvent(
      'client.fetched',
      clientId,
      { revalidated: false, raw_hash: outcome.rawHash, expires_at: entry.expires_at },
      at(),
    ),
  );
  return { kind: 'write', entry, ttlMs: retentionMs(entry.expires_at, now, settings), events, outcome: 'ok' };
}

/** Put the logo on the entry; what was given. */
function setLogo(entry: CacheEntry, logo: LogoResult): LogoResult {
  if (logo === undefined || logo === 'unavailable') delete entry.logo;
  else entry.logo = logo;
  return logo;
}

/**
 * The key set a newly written entry starts with: the one held for the same jwks_uri, until
 * the follow-up fetch of the jwks_uri (withKeySet) replaces it; none yet for a new jwks_uri.
 */
function carryKeys(entry: CacheEntry, previous: CacheEntry | undefined, now: number): void {
  const jwksUri = entry.document?.jwks_uri;
  if (jwksUri === undefined) delete entry.keys;
  else if (previous?.keys?.jwks_uri === jwksUri) entry.keys = previous.keys;
  else entry.keys = { jwks_uri: jwksUri, status: 'unavailable', errors: [], fetched_at: now };
}

/**
 * A valid entry with the outcome of fetching its document's jwks_uri (SPEC-NOTES 26, 27, 30),
 * written after the document so that a slow key set never delays an authorize check: the key
 * set's lifetime bounds the entry's, a set that cannot be had is tried again no later than a
 * refused document would be, and a new or lost usable set is a change of the client's keys
 * (`client.changed` with `keys`; the tenants' on_change.keys applies).
 */
export function withKeySet(
  entry: CacheEntry,
  keys: KeySetOutcome,
  now: number,
  settings: TransitionSettings,
  newId: () => string,
): { entry: CacheEntry; ttlMs: number; events: ClientEvent[] } | undefined {
  const jwksUri = entry.document?.jwks_uri;
  if (entry.status !== 'valid' || jwksUri === undefined) return undefined;
  const before = entry.keys?.jwks_uri === jwksUri ? entry.keys : undefined;
  const next: CacheEntry = { ...entry };
  switch (keys.outcome) {
    case 'ok':
      next.keys = { jwks_uri: jwksUri, status: 'valid', jwks: keys.jwks, raw_hash: keys.rawHash, fetched_at: now };
      if (keys.validators.etag) next.keys.etag = keys.validators.etag;
      if (keys.validators.lastModified) next.keys.last_modified = keys.validators.lastModified;
      bound(next, keys.lifetime.refreshAt, keys.lifetime.expiresAt);
      break;
    case 'not_modified':
      if (before?.status === 'valid') {
        next.keys = { ...before, fetched_at: now, ...(keys.validators.etag ? { etag: keys.validators.etag } : {}) };
        bound(next, keys.lifetime.refreshAt, keys.lifetime.expiresAt);
      } else {
        next.keys = { jwks_uri: jwksUri, status: 'unavailable', errors: [], fetched_at: now };
        bound(next, now + settings.refusedRetrySeconds * 1000, next.expires_at);
      }
      break;
    case 'transient':
      // A held set stays until the entry's own expiry; a client without one has none yet.
      next.keys =
        before?.status === 'valid'
          ? before
          : { jwks_uri: jwksUri, status: 'unavailable', errors: keys.errors, fetched_at: now };
      bound(next, now + settings.refusedRetrySeconds * 1000, next.expires_at);
      break;
    case 'refused':
      next.keys = { jwks_uri: jwksUri, status: 'invalid', errors: keys.errors, fetched_at: now };
      bound(next, now + settings.refusedRetrySeconds * 1000, next.expires_at);
      break;
  }
  const changed =
    before?.status === 'valid' &&
    (next.keys?.status === 'invalid' || (next.keys?.status === 'valid' && next.keys.raw_hash !== before.raw_hash));
  const events: ClientEvent[] = changed
    ? [
        clientEvent(
          'client.changed',
          entry.client_id,
          { changes: ['keys'], raw_hash: entry.raw_hash ?? '' },
          { id: newId(), now },
        ),
      ]
    : [];
  return { entry: next, ttlMs: retentionMs(next.expires_at, now, settings), events };
}

/** Refresh and expire the entry no later than these. */
function bound(entry: CacheEntry, refreshAt: number, expiresAt: number): void {
  entry.expires_at = Math.min(entry.expires_at, expiresAt);
  entry.refresh_at = Math.min(entry.refresh_at, refreshAt, entry.expires_at);
}

/**
 * A 304's lifetime: its own when it states one, else the one the stored 200 was given
 * (RFC 9111 §4.3.4: a 304 updates the stored response's headers; SPEC-NOTES 32).
 */
export function keptLifetime(
  lifetime: CacheLifetime,
  storedTtlSeconds: number | undefined,
  settings: Pick<TransitionSettings, 'refreshAheadRatio'>,
): CacheLifetime {
  if (lifetime.source !== 'default' || storedTtlSeconds === undefined) return lifetime;
  const start = lifetime.fetchedAt;
  return {
    ...lifetime,
    ttlSeconds: storedTtlSeconds,
    refreshAt: start + Math.round(storedTtlSeconds * settings.refreshAheadRatio * 1000),
    expiresAt: start + storedTtlSeconds * 1000,
  };
}

/** Whether a held logo may be used for `logoUri` now: the same URL, fetched less than one document lifetime ago (SPEC-NOTES 21). */
export function logoStillFresh(previous: CacheEntry | undefined, logoUri: string, now: number): boolean {
  const logo = previous?.logo;
  if (!logo || previous?.document?.logo_uri !== logoUri) return false;
  const fetchedAt = logo.fetched_at ?? previous.fetched_at;
  const ttlMs = (previous.ttl_seconds ?? (previous.expires_at - previous.fetched_at) / 1000) * 1000;
  return now < fetchedAt + ttlMs;
}

function refused(
  { previous, clientId, now, settings, newId }: TransitionInput,
  outcome: Exclude<FetchOutcome, { outcome: 'ok' | 'not_modified' | 'transient' }>,
): CacheTransition {
  // A valid client is not declared gone or invalid on one answer: a deploy gone wrong or a
  // CDN hiccup must not end every session. Keep serving it and look again after the delay.
  if (previous?.status === 'valid' && previous.document) {
    const since = previous.suspect?.since ?? now;
    const waited = now - since;
    if (waited < settings.goneConfirmDelayMs) {
      return {
        kind: 'suspect',
        entry: { ...previous, suspect: { since, outcome: outcome.outcome, errors: outcome.errors } },
        confirmInMs: settings.goneConfirmDelayMs - waited,
        outcome: outcome.outcome,
      };
    }
  }
  // Retried no sooner than the lower cache bound: a refused client is not refetched per request.
  const retryAt = now + settings.refusedRetrySeconds * 1000;
  const status = outcome.outcome === 'gone' ? 'gone' : 'invalid';
  const entry: CacheEntry = {
    v: 1,
    client_id: clientId,
    status,
    errors: outcome.errors,
    fetched_at: now,
    first_seen_at: previous?.first_seen_at ?? now,
    refresh_at: retryAt,
    expires_at: retryAt,
  };
  const events: ClientEvent[] = [];
  if (previous?.status !== status || JSON.stringify(previous.errors) !== JSON.stringify(outcome.errors)) {
    events.push(
      outcome.outcome === 'gone'
        ? clientEvent('client.gone', clientId, { status: outcome.status }, { id: newId(), now })
        : clientEvent(
            'client.invalid',
            clientId,
            { errors: outcome.errors, outcome: outcome.outcome },
            { id: newId(), now },
          ),
    );
  }
  return { kind: 'write', entry, ttlMs: retentionMs(retryAt, now, settings), events, outcome: outcome.outcome };
}

/** How long Redis keeps an entry: past its expiry by the stale retention, at least a second. */
export function retentionMs(
  expiresAt: number,
  now: number,
  settings: Pick<TransitionSettings, 'staleRetentionSeconds'>,
) {
  return Math.max(1000, expiresAt - now + settings.staleRetentionSeconds * 1000);
}

/** Why a client is fetched: `keys` when an assertion named a key its held set lacks. */
export type FetchReason = 'miss' | 'refresh' | 'scheduled' | 'admin' | 'confirm' | 'keys';

/**
 * Whether a fetch job is answered already: a miss, refresh or scheduled fetch asked for before
 * the entry was last written (a check that read "miss" just before another fetch finished must
 * not cause a second one), or any job resumed after its fetcher died once the entry is newer
 * than the request (running it again would repeat its events).
 */
export function answeredBefore(
  job: { reason: FetchReason; requestedAt?: number; resumed?: boolean },
  previous: CacheEntry | undefined,
): boolean {
  if (previous === undefined || job.requestedAt === undefined || previous.fetched_at < job.requestedAt) return false;
  return (
    job.reason === 'miss' ||
    job.reason === 'refresh' ||
    job.reason === 'scheduled' ||
    job.reason === 'keys' ||
    job.resumed === true
  );
}
