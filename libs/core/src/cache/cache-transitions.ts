import { documentChanges } from '../document/document-changes';
import { ClientEvent, clientEvent } from '../events/client-event';
import type { FetchOutcome } from '../fetch/fetch-outcome';
import type { RuleCode } from '../findings';
import type { CacheEntry } from './cache-entry';

/** The deployment's settings the transitions depend on. */
export interface TransitionSettings {
  /** A valid client that answers 404/410 or breaks is confirmed by a second fetch this long after the first. */
  goneConfirmDelayMs: number;
  /** A refused (invalid or gone) client is fetched again no sooner than this. */
  refusedRetrySeconds: number;
  /** An entry is kept in Redis this long past its expiry, for the gateway's stale-if-error window. */
  staleRetentionSeconds: number;
}

/** The prefetched logo of an `ok` outcome: stored (by its hash), unavailable, or none declared. */
export type LogoResult = { sha256: string; content_type: string } | 'unavailable' | undefined;

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
  /** Only for an `ok` outcome whose document declares a logo. */
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
  { now, settings, newId }: TransitionInput,
  previous: CacheEntry,
  outcome: Extract<FetchOutcome, { outcome: 'not_modified' }>,
): CacheTransition {
  const { lifetime } = outcome;
  const { last_error: _error, suspect: _suspect, ...kept } = previous;
  const entry: CacheEntry = {
    ...kept,
    fetched_at: lifetime.fetchedAt,
    refresh_at: lifetime.refreshAt,
    expires_at: lifetime.expiresAt,
  };
  if (outcome.validators.etag) entry.etag = outcome.validators.etag;
  if (outcome.validators.lastModified) entry.last_modified = outcome.validators.lastModified;
  const event = clientEvent(
    'client.fetched',
    previous.client_id,
    {
      revalidated: true,
      ...(previous.raw_hash ? { raw_hash: previous.raw_hash } : {}),
      expires_at: lifetime.expiresAt,
    },
    { id: newId(), now },
  );
  return {
    kind: 'write',
    entry,
    ttlMs: retentionMs(lifetime.expiresAt, now, settings),
    events: [event],
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
  };
  const warnings = new Set<RuleCode>(outcome.warnings.map((w) => w.code));
  if (outcome.validators.etag) entry.etag = outcome.validators.etag;
  if (outcome.validators.lastModified) entry.last_modified = outcome.validators.lastModified;
  if (logo === 'unavailable') warnings.add('logo.unavailable');
  else if (logo) entry.logo = logo;
  if (warnings.size > 0) entry.warnings = [...warnings];

  const at = () => ({ id: newId(), now });
  const events: ClientEvent[] = [];
  if (previous?.status === 'invalid' || previous?.status === 'gone') {
    events.push(clientEvent('client.restored', clientId, { previous_status: previous.status }, at()));
  }
  if (previous?.status === 'valid' && previous.document && previous.raw_hash !== outcome.rawHash) {
    const changes = documentChanges(previous.document, document);
    if (changes.length > 0)
      events.push(clientEvent('client.changed', clientId, { changes, raw_hash: outcome.rawHash }, at()));
  }
  events.push(
    clientEvent(
      'client.fetched',
      clientId,
      { revalidated: false, raw_hash: outcome.rawHash, expires_at: lifetime.expiresAt },
      at(),
    ),
  );
  return { kind: 'write', entry, ttlMs: retentionMs(lifetime.expiresAt, now, settings), events, outcome: 'ok' };
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

export type FetchReason = 'miss' | 'refresh' | 'scheduled' | 'admin' | 'confirm';

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
  return job.reason === 'miss' || job.reason === 'refresh' || job.reason === 'scheduled' || job.resumed === true;
}
