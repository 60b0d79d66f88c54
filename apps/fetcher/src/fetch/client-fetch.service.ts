import { CHANNELS, clientKey, FETCH_QUEUE, fetchJob, FetchJobData, FetchJobResult } from '@cimd/contracts';
import {
  answeredBefore,
  CacheEntry,
  FetchOutcome,
  fetchAttemptOf,
  FetchReason,
  LogoResult,
  NextAttemptKind,
  nextAttemptAfterFailure,
  nextCacheEntry,
  retentionMs,
  TransitionSettings,
} from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { fetchClientMetadata, fetchLogo, SafeFetcher } from '@cimd/safe-fetch';
import { AttemptStanding, ClientCacheRepository, RedisPubSub } from '@cimd/store';
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
    };
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
    await this.pubsub
      .publish(CHANNELS.fetchDone, { client_key: clientKey(clientId), outcome, written })
      .catch((e: Error) => {
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

    const previous = await this.cache.get(clientId);
    if (answeredBefore(attempt, previous)) {
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

    let cooldownMs = 0;
    if (outcome.outcome === 'transient') cooldownMs = await this.cooldown.recordFailure(clientId);
    else await this.cooldown.clear(clientId);
    const logo =
      outcome.outcome === 'ok' && outcome.document.logo_uri !== undefined
        ? await this.prefetchLogo(
            outcome.document.logo_uri,
            previous,
            retentionMs(outcome.lifetime.expiresAt, Date.now(), this.settings),
          )
        : undefined;
    const next = nextCacheEntry({
      previous,
      clientId,
      outcome,
      now: Date.now(),
      settings: this.settings,
      ...(logo !== undefined ? { logo } : {}),
      newId: randomUUID,
    });
    switch (next.kind) {
      case 'retry': {
        if (next.entry) await this.cache.note(next.entry);
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
        await this.cache.note(next.entry);
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
      case 'write':
        // A revalidated copy keeps its logo as long as itself.
        if (next.outcome === 'not_modified' && next.entry.logo)
          await this.cache.extendLogo(next.entry.logo.sha256, next.ttlMs);
        await this.cache.write(next.entry, next.ttlMs, next.events);
        for (const e of next.events) this.metrics.events.inc({ type: e.type });
        await record(
          { kind: 'refresh', inMs: Math.max(0, next.entry.refresh_at - Date.now()) },
          { failing: false, refusedBody: refusedBodyOf(outcome) },
        );
        return { client_id: clientId, outcome: next.outcome, status: next.entry.status };
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

  private async prefetchLogo(logoUri: string, previous: CacheEntry | undefined, ttlMs: number): Promise<LogoResult> {
    const previousLogo = previous?.document?.logo_uri === logoUri ? previous.logo : undefined;
    if (previousLogo && (await this.cache.extendLogo(previousLogo.sha256, ttlMs))) {
      this.metrics.logos.inc({ result: 'reused' });
      return previousLogo;
    }
    const logo = await fetchLogo(this.fetcher, logoUri, this.config.logoMaxBytes);
    if (!logo.ok) {
      this.metrics.logos.inc({ result: 'failed' });
      this.logger.info({ logo_uri: logoUri, reason: logo.reason }, 'logo not stored');
      return 'unavailable';
    }
    await this.cache.storeLogo(logo.sha256, { contentType: logo.contentType, body: logo.body }, ttlMs);
    this.metrics.logos.inc({ result: 'stored' });
    return { sha256: logo.sha256, content_type: logo.contentType };
  }
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
