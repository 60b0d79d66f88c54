import { documentChanges, Finding, RuleCode } from '@cimd/core';
import {
  CacheEntry,
  ClientEvent,
  clientKey,
  FetchDoneMessage,
  eventFields,
  EVENT_STREAM_MAXLEN,
  FetchJobResult,
  FetchReason,
  newClientEvent,
  parseCacheEntry,
  RedisKeys,
} from '@cimd/contracts';
import { fetchClientMetadata, FetchOutcome, fetchLogo, SafeFetcher } from '@cimd/safe-fetch';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { FetcherConfig } from '../fetcher-config';
import type { FetcherMetrics } from '../metrics';
import { FailureCooldown } from './failure-cooldown';
import { OriginRateLimiter } from './origin-rate-limiter';

/** Thrown for a transient outcome so that BullMQ retries the job with backoff. */
export class TransientFetchError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransientFetchError';
  }
}

/** Thrown when the origin's rate limit says wait; the job is delayed, not failed. */
export class OriginBusyError extends Error {
  constructor(readonly waitMs: number) {
    super(`origin rate limit reached; retry in ${waitMs} ms`);
    this.name = 'OriginBusyError';
  }
}

export interface FetchAttempt {
  clientId: string;
  reason: FetchReason;
  /** When the job was enqueued (ms since epoch). */
  requestedAt?: number;
  /** 0 on the first attempt; retries of the same job are never held back by the cooldown. */
  attemptsMade: number;
  jobId?: string;
  /**
   * The job ran before and was cut off (its fetcher died): BullMQ started it more often than it
   * finished or failed it. If the entry was written since the request, that run got as far as
   * its write-back, and running it again would repeat its events.
   */
  resumed?: boolean;
}

/**
 * One fetch of one client_id and its write-back: rate limit and cooldown, conditional
 * request, outcome, cache entry and events in one Redis transaction. Transient outcomes
 * keep the last good copy and throw, so the queue retries with backoff.
 */
export class ClientFetchService {
  private readonly rateLimiter: OriginRateLimiter;
  private readonly cooldown: FailureCooldown;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly fetcher: SafeFetcher,
    private readonly config: Pick<
      FetcherConfig,
      | 'cacheBounds'
      | 'staleRetentionSeconds'
      | 'logoMaxBytes'
      | 'originRateLimit'
      | 'cooldownMaxSeconds'
      | 'goneConfirmDelayMs'
    >,
    private readonly metrics: FetcherMetrics,
    private readonly logger: Logger,
    /** Schedules the confirmation fetch of a client whose document vanished. */
    private readonly scheduleConfirmation: (clientId: string, delayMs: number) => Promise<void> = () =>
      Promise.resolve(),
  ) {
    this.rateLimiter = new OriginRateLimiter(redis, keys, config.originRateLimit.max, config.originRateLimit.windowMs);
    this.cooldown = new FailureCooldown(redis, keys, config.cooldownMaxSeconds);
  }

  async run(attempt: FetchAttempt): Promise<FetchJobResult> {
    try {
      const result = await this.attempt(attempt);
      await this.announce(attempt.clientId, result.outcome, result.skipped === undefined);
      return result;
    } catch (e) {
      if (e instanceof TransientFetchError) await this.announce(attempt.clientId, 'transient', false);
      throw e;
    }
  }

  /** Tell gateways waiting on this client that the attempt is over (best effort: they also time out). */
  private async announce(clientId: string, outcome: string, written: boolean): Promise<void> {
    const message: FetchDoneMessage = { client_key: clientKey(clientId), outcome, written };
    await this.redis.publish(this.keys.fetchDone, JSON.stringify(message)).catch((e: Error) => {
      this.logger.warn({ client_id: clientId, err: e.message }, 'could not publish fetch-done');
    });
  }

  private async attempt(attempt: FetchAttempt): Promise<FetchJobResult> {
    const { clientId } = attempt;
    const log = this.logger.child({
      client_id: clientId,
      job_id: attempt.jobId,
      reason: attempt.reason,
      attempt: attempt.attemptsMade + 1,
    });
    if (attempt.attemptsMade === 0 && attempt.reason !== 'admin' && (await this.cooldown.active(clientId))) {
      this.metrics.jobs.inc({ outcome: 'cooldown' });
      log.debug('skipped: client is cooling down after repeated failures');
      return { client_id: clientId, outcome: 'cooldown', skipped: 'cooldown' };
    }
    const origin = originOf(clientId);
    if (origin !== undefined) {
      const wait = await this.rateLimiter.acquire(origin);
      if (wait > 0) {
        this.metrics.jobs.inc({ outcome: 'rate_limited' });
        throw new OriginBusyError(wait);
      }
    }

    const previous = parseCacheEntry(await this.redis.get(this.keys.clientEntry(clientId)));
    // A miss or refresh asked for before the entry was last written is already answered: a
    // check that read "miss" just before another fetch finished must not cause a second one.
    // So is any job resumed after its fetcher died, once the entry is newer than the request.
    if (
      (attempt.reason === 'miss' ||
        attempt.reason === 'refresh' ||
        attempt.reason === 'scheduled' ||
        attempt.resumed) &&
      attempt.requestedAt !== undefined &&
      previous !== undefined &&
      previous.fetched_at >= attempt.requestedAt
    ) {
      this.metrics.jobs.inc({ outcome: 'already_fresh' });
      return { client_id: clientId, outcome: 'already_fresh', status: previous.status, skipped: 'fresh' };
    }
    const validators =
      previous?.status === 'valid'
        ? {
            ...(previous.etag ? { etag: previous.etag } : {}),
            ...(previous.last_modified ? { lastModified: previous.last_modified } : {}),
          }
        : undefined;
    const started = performance.now();
    const outcome = await fetchClientMetadata(this.fetcher, clientId, {
      cacheBounds: this.config.cacheBounds,
      ...(validators ? { validators } : {}),
    });
    this.metrics.duration.observe({ outcome: outcome.outcome }, (performance.now() - started) / 1000);
    this.metrics.jobs.inc({ outcome: outcome.outcome });
    log.info(
      { outcome: outcome.outcome, codes: 'errors' in outcome ? outcome.errors.map((e) => e.code) : undefined },
      'fetched',
    );

    if (outcome.outcome === 'transient') {
      await this.recordTransient(clientId, previous, outcome.errors[0]);
      await this.cooldown.recordFailure(clientId);
      const retryAfterMs = outcome.retryAfterSeconds !== undefined ? outcome.retryAfterSeconds * 1000 : undefined;
      throw new TransientFetchError(outcome.errors[0]?.message ?? 'transient failure', retryAfterMs);
    }
    await this.cooldown.clear(clientId);
    if (outcome.outcome === 'not_modified' && previous?.status === 'valid') {
      return this.writeRevalidated(previous, outcome);
    }
    if (outcome.outcome === 'ok') return this.writeValid(clientId, previous, outcome);
    if (outcome.outcome === 'not_modified') {
      // A 304 without a validated copy extends nothing (SPEC-NOTES 4): fetch it whole next time.
      throw new TransientFetchError('304 Not Modified without a validated copy');
    }
    return this.writeRefused(clientId, previous, outcome);
  }

  private async writeValid(
    clientId: string,
    previous: CacheEntry | undefined,
    outcome: Extract<FetchOutcome, { outcome: 'ok' }>,
  ): Promise<FetchJobResult> {
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
    const ttlMs = this.entryTtlMs(lifetime.expiresAt);
    if (document.logo_uri !== undefined) {
      const logo = await this.prefetchLogo(document.logo_uri, previous, ttlMs);
      if (logo) entry.logo = logo;
      else warnings.add('logo.unavailable');
    }
    if (warnings.size > 0) entry.warnings = [...warnings];

    const events: ClientEvent[] = [];
    if (previous?.status === 'invalid' || previous?.status === 'gone') {
      events.push(newClientEvent('client.restored', clientId, { previous_status: previous.status }));
    }
    if (previous?.status === 'valid' && previous.document && previous.raw_hash !== outcome.rawHash) {
      const changes = documentChanges(previous.document, document);
      if (changes.length > 0)
        events.push(newClientEvent('client.changed', clientId, { changes, raw_hash: outcome.rawHash }));
    }
    events.push(
      newClientEvent('client.fetched', clientId, {
        revalidated: false,
        raw_hash: outcome.rawHash,
        expires_at: lifetime.expiresAt,
      }),
    );
    await this.commit(entry, ttlMs, events);
    return { client_id: clientId, outcome: 'ok', status: 'valid' };
  }

  private async writeRevalidated(
    previous: CacheEntry,
    outcome: Extract<FetchOutcome, { outcome: 'not_modified' }>,
  ): Promise<FetchJobResult> {
    const { lifetime } = outcome;
    const entry: CacheEntry = {
      ...previous,
      fetched_at: lifetime.fetchedAt,
      refresh_at: lifetime.refreshAt,
      expires_at: lifetime.expiresAt,
    };
    delete entry.last_error;
    delete entry.suspect;
    if (outcome.validators.etag) entry.etag = outcome.validators.etag;
    if (outcome.validators.lastModified) entry.last_modified = outcome.validators.lastModified;
    const ttlMs = this.entryTtlMs(lifetime.expiresAt);
    if (previous.logo) await this.redis.pexpire(this.keys.logo(previous.logo.sha256), ttlMs);
    const event = newClientEvent('client.fetched', previous.client_id, {
      revalidated: true,
      ...(previous.raw_hash ? { raw_hash: previous.raw_hash } : {}),
      expires_at: lifetime.expiresAt,
    });
    await this.commit(entry, ttlMs, [event]);
    return { client_id: previous.client_id, outcome: 'not_modified', status: 'valid' };
  }

  private async writeRefused(
    clientId: string,
    previous: CacheEntry | undefined,
    outcome: Exclude<FetchOutcome, { outcome: 'ok' | 'not_modified' | 'transient' }>,
  ): Promise<FetchJobResult> {
    const now = Date.now();
    // A valid client is not declared gone or invalid on one answer: a deploy gone wrong or a
    // CDN hiccup must not end every session. Keep serving it and look again after the delay.
    if (previous?.status === 'valid' && previous.document) {
      const since = previous.suspect?.since ?? now;
      const waited = now - since;
      if (waited < this.config.goneConfirmDelayMs) {
        const suspect: CacheEntry = {
          ...previous,
          suspect: { since, outcome: outcome.outcome, errors: outcome.errors },
        };
        await this.redis.set(this.keys.clientEntry(clientId), JSON.stringify(suspect), 'KEEPTTL');
        await this.scheduleConfirmation(clientId, this.config.goneConfirmDelayMs - waited);
        this.logger.info(
          { client_id: clientId, outcome: outcome.outcome },
          'document vanished or broke; confirming later',
        );
        return { client_id: clientId, outcome: outcome.outcome, status: 'valid', suspect: true };
      }
    }
    // Retried no sooner than the lower cache bound: a refused client is not refetched per request.
    const retryAt = now + this.config.cacheBounds.minSeconds * 1000;
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
          ? newClientEvent('client.gone', clientId, { status: outcome.status })
          : newClientEvent('client.invalid', clientId, { errors: outcome.errors, outcome: outcome.outcome }),
      );
    }
    await this.commit(entry, this.entryTtlMs(retryAt), events);
    return { client_id: clientId, outcome: outcome.outcome, status };
  }

  /** A transient failure changes nothing but the note of the last error. */
  private async recordTransient(
    clientId: string,
    previous: CacheEntry | undefined,
    error: Finding | undefined,
  ): Promise<void> {
    if (!previous || !error) return;
    const entry: CacheEntry = { ...previous, last_error: { at: Date.now(), code: error.code, message: error.message } };
    await this.redis.set(this.keys.clientEntry(clientId), JSON.stringify(entry), 'KEEPTTL');
  }

  private async prefetchLogo(
    logoUri: string,
    previous: CacheEntry | undefined,
    ttlMs: number,
  ): Promise<CacheEntry['logo'] | undefined> {
    const previousLogo = previous?.document?.logo_uri === logoUri ? previous.logo : undefined;
    if (previousLogo && (await this.redis.pexpire(this.keys.logo(previousLogo.sha256), ttlMs)) === 1) {
      this.metrics.logos.inc({ result: 'reused' });
      return previousLogo;
    }
    const logo = await fetchLogo(this.fetcher, logoUri, this.config.logoMaxBytes);
    if (!logo.ok) {
      this.metrics.logos.inc({ result: 'failed' });
      this.logger.info({ logo_uri: logoUri, reason: logo.reason }, 'logo not stored');
      return undefined;
    }
    // Stored with its content type in front, so the gateway serves exactly what was checked.
    const key = this.keys.logo(logo.sha256);
    await this.redis.set(key, Buffer.concat([Buffer.from(`${logo.contentType}\n`), logo.body]), 'PX', ttlMs);
    this.metrics.logos.inc({ result: 'stored' });
    return { sha256: logo.sha256, content_type: logo.contentType };
  }

  /** The entry and its events land together or not at all. */
  private async commit(entry: CacheEntry, ttlMs: number, events: ClientEvent[]): Promise<void> {
    const tx = this.redis.multi().set(this.keys.clientEntry(entry.client_id), JSON.stringify(entry), 'PX', ttlMs);
    for (const e of events)
      tx.xadd(this.keys.events, 'MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', ...eventFields(e));
    const result = await tx.exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed)
      throw new Error(`writing the cache entry failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    for (const e of events) this.metrics.events.inc({ type: e.type });
  }

  /** Kept past expiry for the gateway's stale-if-error window, then Redis drops it. */
  private entryTtlMs(expiresAt: number): number {
    return Math.max(1000, expiresAt - Date.now() + this.config.staleRetentionSeconds * 1000);
  }
}

function originOf(clientId: string): string | undefined {
  try {
    return new URL(clientId).origin;
  } catch {
    return undefined;
  }
}
