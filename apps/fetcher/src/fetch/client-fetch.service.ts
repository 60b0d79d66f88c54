import { CHANNELS, clientKey, FETCH_QUEUE, fetchJob, FetchJobData, FetchJobResult } from '@cimd/contracts';
import {
  answeredBefore,
  CacheEntry,
  FetchReason,
  LogoResult,
  nextCacheEntry,
  retentionMs,
  TransitionSettings,
} from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { fetchClientMetadata, fetchLogo, SafeFetcher } from '@cimd/safe-fetch';
import { ClientCacheRepository, EventRelayError, RedisPubSub } from '@cimd/store';
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
      // The entry is written (its events wait in the outbox): waiting gateways may read it.
      if (e instanceof EventRelayError) await this.announce(attempt.clientId, 'written', true);
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
    // Events an earlier write left in the client's outbox go out before anything else.
    const { entry: previous, outbox } = await this.cache.forWrite(clientId);
    if (outbox.length > 0) {
      await this.cache.relay(clientId, outbox);
      log.info({ events: outbox.length }, 'relayed events an earlier write left in the outbox');
    }
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

    if (outcome.outcome === 'transient') await this.cooldown.recordFailure(clientId);
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
      case 'retry':
        if (next.entry) await this.cache.note(next.entry);
        throw new TransientFetchError(next.message, next.retryAfterMs);
      case 'suspect':
        // A valid client is not declared gone or invalid on one answer: a deploy gone wrong or a
        // CDN hiccup must not end every session. It is served, marked, and looked at again.
        await this.cache.note(next.entry);
        await this.scheduleConfirmation(clientId, next.confirmInMs);
        log.info({ outcome: next.outcome }, 'document vanished or broke; confirming later');
        return { client_id: clientId, outcome: next.outcome, status: 'valid', suspect: true };
      case 'write':
        // A revalidated copy keeps its logo as long as itself.
        if (next.outcome === 'not_modified' && next.entry.logo)
          await this.cache.extendLogo(next.entry.logo.sha256, next.ttlMs);
        await this.cache.write(next.entry, next.ttlMs, next.events);
        for (const e of next.events) this.metrics.events.inc({ type: e.type });
        return { client_id: clientId, outcome: next.outcome, status: next.entry.status };
    }
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
