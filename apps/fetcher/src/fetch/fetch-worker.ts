import { FETCH_BACKOFF_TYPE, FETCH_QUEUE, FetchJobData, FetchJobDataSchema, FetchJobResult } from '@cimd/contracts';
import { fetchBackoffMs } from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { EventRelayError, QueueWorkers } from '@cimd/store';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { FetcherConfig, InjectFetcherConfig } from '../fetcher-config';
import { ClientFetchService, OriginBusyError, TransientFetchError } from './client-fetch.service';

/**
 * The BullMQ worker on `cimd-fetch`. Thin: it checks the payload, hands the job to
 * ClientFetchService, and turns its signals into queue operations (delay on a busy origin,
 * retry with backoff on a transient failure).
 */
@Injectable()
export class FetchWorker implements OnApplicationBootstrap {
  private worker?: Worker<FetchJobData, FetchJobResult>;

  constructor(
    private readonly service: ClientFetchService,
    private readonly workers: QueueWorkers,
    @InjectQueue(FETCH_QUEUE) private readonly queue: Queue<FetchJobData, FetchJobResult>,
    @InjectFetcherConfig() private readonly config: FetcherConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: with Redis down the worker waits for it, and readiness says so meanwhile.
    this.start().catch((e: Error) => this.logger.error({ err: e.message }, 'the fetch worker could not start'));
  }

  get running(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  private async start(): Promise<void> {
    await this.queue.setGlobalConcurrency(this.config.globalConcurrency);
    this.worker = await this.workers.start<FetchJobData, FetchJobResult>(
      FETCH_QUEUE,
      (job, token) => this.process(job, token),
      {
        concurrency: this.config.concurrency,
        // A killed fetcher's jobs are moved back to waiting by another fetcher's stalled-job check.
        lockDurationMs: this.config.lockDurationMs,
        stalledIntervalMs: this.config.stalledIntervalMs,
        settings: { backoffStrategy: backoff },
      },
      (err) => this.logger.error({ err: err.message }, 'fetch worker error'),
    );
    this.worker.on('failed', (job, err) => {
      this.logger.warn(
        { job_id: job?.id, client_id: job?.data.client_id, attempts: job?.attemptsMade, err: err.message },
        'fetch attempt failed',
      );
    });
  }

  private async process(job: Job<FetchJobData, FetchJobResult>, token?: string): Promise<FetchJobResult> {
    const data = FetchJobDataSchema.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError('malformed fetch job: expected { client_id: string, reason }');
    try {
      return await this.service.run({
        clientId: data.data.client_id,
        reason: data.data.reason,
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
        backoffDelayMs: backoffDelayOf(job.opts),
        requestedAt: job.timestamp,
        ...(job.id ? { jobId: job.id } : {}),
        resumed: job.attemptsStarted > job.attemptsMade + 1,
      });
    } catch (e) {
      if (e instanceof OriginBusyError) {
        await job.moveToDelayed(Date.now() + e.waitMs, token);
        throw new DelayedError();
      }
      if (e instanceof EventRelayError) {
        // The job is not done until its events are on the stream; waiting for the stream's
        // server (a failover) uses up none of its attempts. The run that resumes it relays first.
        this.logger.warn({ job_id: job.id, client_id: data.data.client_id, err: e.message }, 'relay retried shortly');
        await job.moveToDelayed(Date.now() + relayRetryMs(job.attemptsStarted - job.attemptsMade), token);
        throw new DelayedError();
      }
      throw e;
    }
  }
}

/** 0.5 s, doubling with each run of the job that ended delayed, at most 10 s. */
export function relayRetryMs(delayedRuns: number): number {
  return Math.min(500 * 2 ** Math.max(0, delayedRuns - 1), 10_000);
}

/** The job's configured backoff delay (2 s unless its options say otherwise). */
function backoffDelayOf(opts: { backoff?: unknown } | undefined): number {
  const configured = opts?.backoff;
  return typeof configured === 'object' && configured && 'delay' in configured
    ? Number((configured as { delay?: number }).delay ?? 2000)
    : 2000;
}

/**
 * BullMQ's backoff strategy: the backoff the fetch already computed (and recorded in the attempt
 * log), or fetchBackoffMs from the job's configured delay, at least what Retry-After asked.
 */
export function backoff(
  attemptsMade: number,
  type?: string,
  err?: Error,
  job?: { opts?: { backoff?: unknown } },
): number {
  const delay = backoffDelayOf(job?.opts);
  if (type !== FETCH_BACKOFF_TYPE && type !== undefined) return fetchBackoffMs(attemptsMade, delay);
  if (err instanceof TransientFetchError && err.backoffMs !== undefined) return err.backoffMs;
  return fetchBackoffMs(attemptsMade, delay, err instanceof TransientFetchError ? (err.retryAfterMs ?? 0) : 0);
}
