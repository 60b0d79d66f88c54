import {
  CHANNELS,
  clientKey,
  FETCH_QUEUE,
  FetchDoneMessage,
  fetchJob,
  FetchJobData,
  FetchJobResult,
} from '@cimd/contracts';
import {
  answeredBefore,
  CacheEntry,
  FetchOutcome,
  fetchAttemptOf,
  FetchReason,
  KeySetOutcome,
  logoStillFresh,
  LogoResult,
  MetadataDocument,
  NextAttemptKind,
  nextAttemptAfterFailure,
  nextCacheEntry,
  retentionMs,
  TransitionSettings,
  withKeySet,
} from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { fetchClientMetadata, fetchKeySet, fetchLogo, SafeFetcher } from '@cimd/safe-fetch';
import { AttemptStanding, ClientCacheRepository, EventRelayError, RedisPubSub } from '@cimd/store';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { FetcherConfig, InjectFetcherConfig } from '../fetcher-config';
import { FetcherMetrics } from '../fetcher-metrics';
import { FailureCooldown } from './failure-cooldown';
import { OriginRateLimiter } from './origin-rate-limiter';

/** Thrown for a transient outcome so that BullMQ retries the job with backoff. */
export class TransientFetchError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    /** The backoff already computed (and told operators in the attempt log): BullMQ waits exactly this. */
    readonly backoffMs?: number,
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
  /** The job's attempts and backoff delay (its options), for the retry time the attempt log shows. */
  maxAttempts?: number;
  backoffDelayMs?: number;
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
 * request, the next cache entry and events (nextCacheEntry decides; this writes), and the
 * fetch-done announcement waiting gateways listen for. Transient outcomes keep the last good
 * copy and throw, so the queue retries with backoff.
 */
@Injectable()
export class ClientFetchService {
  private readonly settings: TransitionSettings;

  constructor(
    private readonly cache: ClientCacheRepository,
    private readonly pubsub: RedisPubSub,
    private readonly fetcher: SafeFetcher,
    private readonly rateLimiter: OriginRateLimiter,
    private readonly cooldown: FailureCooldown,
    @InjectQueue(FETCH_QUEUE) private readonly queue: Queue<FetchJobData, FetchJobResult>,
    private readonly metrics: FetcherMetrics,
    @InjectFetcherConfig() private readonly config: FetcherConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.settings = {
      goneConfirmDelayMs: config.goneConfirmDelayMs,
      refusedRetrySeconds: config.cacheBounds.minSeconds,
      staleRetentionSeconds: config.staleRetentionSeconds,
      refreshAheadRatio: config.cacheBounds.refreshAheadRatio,
    };
  }

  async run(attempt: FetchAttempt): Promise<FetchJobResult> {
    try {
      const { announced, ...result } = await this.attempt(attempt);
      if (!announced) await this.announce(attempt.clientId, result.outcome, result.skipped === undefined);
      return result;
    } catch (e) {
      if (e instanceof TransientFetchError) await this.announce(attempt.clientId, 'transient', false);
      // The entry is written (its events wait in the outbox): waiting gateways may read it.
      if (e instanceof EventRelayError) await this.announce(attempt.clientId, 'written', true);
      throw e;
    }
  }

  /** Tell gateways waiting on this client that the attempt is over (best effort: they also time out). */
  private async announce(clientId: string, outcome: string, written: boolean, keysPending = false): Promise<void> {
    await this.pubsub
      .publish(CHANNELS.fetchDone, fetchDone(clientId, outcome, written, keysPending))
      .catch((e: Error) => {
        this.logger.warn({ client_id: clientId, err: e.message }, 'could not publish fetch-done');
      });
  }

  /** `announced`: the fetch-done notice went out with the write-back (run announces every other end). */
  private async attempt(attempt: FetchAttempt): Promise<FetchJobResult & { announced?: true }> {
    const { clientId } = attempt;
    const log = this.logger.child({
      client_id: clientId,
      job_id: attempt.jobId,
      reason: attempt.reason,
      attempt: attempt.attemptsMade + 1,
    });
    // What decides whether to fetch, in one round trip: the entry and its outbox, the cooldown
    // (a retry of the job is never held back by it), and the origin's rate limit, counted now
    // and given back below if no fetch follows.
    const origin = originOf(clientId);
    const countedAt = Date.now();
    const [{ entry: previous, outbox }, coolingDown, wait] = await Promise.all([
      this.cache.forWrite(clientId),
      attempt.attemptsMade === 0 && attempt.reason !== 'admin' ? this.cooldown.active(clientId) : false,
      origin !== undefined ? this.rateLimiter.acquire(origin, countedAt) : 0,
    ]);
    const giveBack = async () => {
      if (origin !== undefined) await this.rateLimiter.giveBack(origin, countedAt);
    };
    // Events an earlier write left in the client's outbox go out before anything else.
    if (outbox.length > 0) {
      await this.cache.relay(clientId, outbox).catch(async (e: unknown) => {
        await giveBack();
        throw e;
      });
      log.info({ events: outbox.length }, 'relayed events an earlier write left in the outbox');
    }
    if (coolingDown) {
      await giveBack();
      this.metrics.jobs.inc({ outcome: 'cooldown' });
      log.debug('skipped: client is cooling down after repeated failures');
      return { client_id: clientId, outcome: 'cooldown', skipped: 'cooldown' };
    }
    if (wait > 0) {
      this.metrics.jobs.inc({ outcome: 'rate_limited' });
      throw new OriginBusyError(wait);
    }
    if (answeredBefore(attempt, previous)) {
      await giveBack();
      this.metrics.jobs.inc({ outcome: 'already_fresh' });
      return { client_id: clientId, outcome: 'already_fresh', status: previous?.status, skipped: 'fresh' };
    }
    const validators =
      previous?.status === 'valid'
        ? {
            ...(previous.etag ? { etag: previous.etag } : {}),
            ...(previous.last_modified ? { lastModified: previous.last_modified } : {}),
          }
        : undefined;
    const started = performance.now();
    const startedAt = Date.now();
    const outcome = await fetchClientMetadata(this.fetcher, clientId, {
      cacheBounds: this.config.cacheBounds,
      ...(validators ? { validators } : {}),
    });
    const durationMs = performance.now() - started;
    this.metrics.duration.observe({ outcome: outcome.outcome }, durationMs / 1000);
    const record = (next: { kind: NextAttemptKind; inMs: number } | undefined, standing: AttemptStanding) =>
      this.recordAttempt(clientId, outcome, { attempt, startedAt, durationMs, next }, standing);
    this.metrics.jobs.inc({ outcome: outcome.outcome });
    log.info(
      { outcome: outcome.outcome, codes: 'errors' in outcome ? outcome.errors.map((e) => e.code) : undefined },
      'fetched',
    );

    const cooldownMs = outcome.outcome === 'transient' ? await this.cooldown.recordFailure(clientId) : 0;
    // The document this fetch leaves the client with: its logo and its key set come with it.
    const now = Date.now();
    const document: MetadataDocument | undefined =
      outcome.outcome === 'ok'
        ? outcome.document
        : outcome.outcome === 'not_modified' && previous?.status === 'valid'
          ? previous.document
          : undefined;
    const logoTtlMs =
      outcome.outcome === 'ok' || outcome.outcome === 'not_modified'
        ? retentionMs(outcome.lifetime.expiresAt, now, this.settings)
        : 0;
    const logo =
      document?.logo_uri !== undefined ? await this.logoFor(document.logo_uri, previous, logoTtlMs, now) : undefined;
    const next = nextCacheEntry({
      previous,
      clientId,
      outcome,
      now,
      settings: this.settings,
      ...(logo !== undefined ? { logo } : {}),
      newId: randomUUID,
    });
    // Anything but a transient failure ends the client's run of failures. Sent with the write
    // of each case below (one round trip), and awaited with it: a failed clear fails the job.
    const cleared = outcome.outcome === 'transient' ? Promise.resolve() : this.cooldown.clear(clientId);
    switch (next.kind) {
      case 'retry': {
        await Promise.all([cleared, next.entry ? this.cache.note(next.entry) : undefined]);
        const plan = nextAttemptAfterFailure({
          attemptsMade: attempt.attemptsMade,
          maxAttempts: attempt.maxAttempts ?? 1,
          backoffDelayMs: attempt.backoffDelayMs ?? 2000,
          ...(next.retryAfterMs !== undefined ? { retryAfterMs: next.retryAfterMs } : {}),
          cooldownMs,
        });
        await record(plan, {
          failing: outcome.outcome === 'transient',
          ...(previous?.suspect ? { suspectSince: previous.suspect.since } : {}),
        });
        throw new TransientFetchError(next.message, next.retryAfterMs, plan.kind === 'retry' ? plan.inMs : undefined);
      }
      case 'suspect':
        // A valid client is not declared gone or invalid on one answer: a deploy gone wrong or a
        // CDN hiccup must not end every session. It is served, marked, and looked at again.
        await Promise.all([cleared, this.cache.note(next.entry)]);
        await this.scheduleConfirmation(clientId, next.confirmInMs);
        await record(
          { kind: 'confirm', inMs: next.confirmInMs },
          {
            failing: false,
            suspectSince: next.entry.suspect?.since ?? Date.now(),
            refusedBody: refusedBodyOf(outcome),
          },
        );
        log.info({ outcome: next.outcome }, 'document vanished or broke; confirming later');
        return { client_id: clientId, outcome: next.outcome, status: 'valid', suspect: true };
      case 'write': {
        const jwksUri = next.entry.status === 'valid' ? next.entry.document?.jwks_uri : undefined;
        // The attempt log, then the entry with its events and the fetch-done notice (with a key
        // set to fetch, the notice says so: checks waiting for the document go on while the keys
        // are fetched), sent together: one round trip. On one server they run in the order sent,
        // so a gateway woken by the notice reads both. A write that fails fails the job (retried),
        // and the log then shows the fetch that was made.
        await Promise.all([
          cleared,
          record(
            { kind: 'refresh', inMs: Math.max(0, next.entry.refresh_at - Date.now()) },
            { failing: false, refusedBody: refusedBodyOf(outcome) },
          ),
          this.cache.write(
            next.entry,
            next.ttlMs,
            next.events,
            fetchDone(clientId, next.outcome, true, jwksUri !== undefined),
          ),
        ]);
        for (const e of next.events) this.metrics.events.inc({ type: e.type });
        const result = { client_id: clientId, outcome: next.outcome, status: next.entry.status };
        if (jwksUri === undefined) return { ...result, announced: true };
        await this.writeKeySet(next.entry, jwksUri);
        return result;
      }
    }
  }

  /**
   * The attempt log's record of this fetch, written before fetch-done is announced so that a
   * gateway woken by it reads the attempt. Best effort: a log that cannot be written does not
   * undo the fetch.
   */
  private async recordAttempt(
    clientId: string,
    outcome: FetchOutcome,
    context: {
      attempt: FetchAttempt;
      startedAt: number;
      durationMs: number;
      next: { kind: NextAttemptKind; inMs: number } | undefined;
    },
    standing: AttemptStanding,
  ): Promise<void> {
    const record = fetchAttemptOf(outcome, {
      at: context.startedAt,
      reason: context.attempt.reason,
      attempt: context.attempt.attemptsMade + 1,
      durationMs: context.durationMs,
      ...(context.next ? { next: { kind: context.next.kind, at: Date.now() + context.next.inMs } } : {}),
    });
    await this.cache.recordAttempt(clientId, record, standing).catch((e: Error) => {
      this.logger.warn({ client_id: clientId, err: e.message }, 'could not record the fetch attempt');
    });
  }

  /** The delayed second look at a client whose document vanished or broke. */
  private async scheduleConfirmation(clientId: string, delayMs: number): Promise<void> {
    const job = fetchJob(clientId, 'confirm', { delayMs });
    await this.queue.add(job.name, job.data, job.opts);
  }

  /**
   * The document's logo (SPEC-NOTES 21): the one held while it is less than a document lifetime
   * old (kept in Redis as long as the new entry), else fetched again.
   */
  private async logoFor(
    logoUri: string,
    previous: CacheEntry | undefined,
    ttlMs: number,
    now: number,
  ): Promise<LogoResult> {
    const held = previous?.logo;
    if (held && logoStillFresh(previous, logoUri, now) && (await this.cache.extendLogo(held.sha256, ttlMs))) {
      this.metrics.logos.inc({ result: 'reused' });
      return held;
    }
    const logo = await fetchLogo(this.fetcher, logoUri, this.config.logoMaxBytes);
    if (!logo.ok) {
      this.metrics.logos.inc({ result: 'failed' });
      this.logger.info({ logo_uri: logoUri, reason: logo.reason }, 'logo not stored');
      return 'unavailable';
    }
    await this.cache.storeLogo(logo.sha256, { contentType: logo.contentType, body: logo.body }, ttlMs);
    this.metrics.logos.inc({ result: 'stored' });
    return { sha256: logo.sha256, content_type: logo.contentType, fetched_at: now };
  }

  /** Fetch the entry's key set and write it onto the entry (withKeySet decides what changes). */
  private async writeKeySet(entry: CacheEntry, jwksUri: string): Promise<void> {
    const keys = await this.keySetFor(jwksUri, entry);
    const next = withKeySet(entry, keys, Date.now(), this.settings, randomUUID);
    if (!next) return;
    await this.cache.write(next.entry, next.ttlMs, next.events);
    for (const e of next.events) this.metrics.events.inc({ type: e.type });
  }

  /** The key set at the document's jwks_uri (SPEC-NOTES 26, 27), conditionally when a valid one is held. */
  private async keySetFor(jwksUri: string, entry: CacheEntry): Promise<KeySetOutcome> {
    const held = entry.keys?.jwks_uri === jwksUri && entry.keys.status === 'valid' ? entry.keys : undefined;
    const started = performance.now();
    const keys = await fetchKeySet(this.fetcher, jwksUri, {
      cacheBounds: this.config.cacheBounds,
      maxBytes: this.config.jwksMaxBytes,
      ...(held
        ? {
            validators: {
              ...(held.etag ? { etag: held.etag } : {}),
              ...(held.last_modified ? { lastModified: held.last_modified } : {}),
            },
          }
        : {}),
    });
    this.metrics.keySets.inc({ outcome: keys.outcome });
    if (keys.outcome === 'transient' || keys.outcome === 'refused')
      this.logger.info(
        {
          jwks_uri: jwksUri,
          outcome: keys.outcome,
          codes: keys.errors.map((e) => e.code),
          ms: Math.round(performance.now() - started),
        },
        'key set not usable',
      );
    return keys;
  }
}

/** The fetch-done notice of an attempt for `clientId`. */
function fetchDone(clientId: string, outcome: string, written: boolean, keysPending: boolean): FetchDoneMessage {
  return { client_key: clientKey(clientId), outcome, written, ...(keysPending ? { keys_pending: true } : {}) };
}

function originOf(clientId: string): string | undefined {
  try {
    return new URL(clientId).origin;
  } catch {
    return undefined;
  }
}

/** What the attempt log keeps of a refused body: an invalid document's text; nothing once the client is anything else. */
function refusedBodyOf(outcome: FetchOutcome): string | null {
  return outcome.outcome === 'invalid' && outcome.body !== undefined ? outcome.body : null;
}
