import { FETCH_BACKOFF_TYPE, FETCH_QUEUE, FetchJobData, FetchJobResult, FetchReason, RedisKeys } from '@cimd/contracts';
import { CLIENT_ID_MAX_LENGTH } from '@cimd/core';
import { DelayedError, Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { bullmqConnection } from '@cimd/runtime';
import type { Logger } from 'pino';
import { ClientFetchService, OriginBusyError, TransientFetchError } from './client-fetch.service';

const REASONS: readonly FetchReason[] = ['miss', 'refresh', 'scheduled', 'admin', 'confirm'];
const MAX_BACKOFF_MS = 3_600_000;

/**
 * The BullMQ worker on `cimd-fetch`. Thin: it checks the payload, hands the job to
 * ClientFetchService, and turns its signals into queue operations (delay on a busy origin,
 * retry with backoff on a transient failure).
 */
export class FetchWorker {
  private worker?: Worker<FetchJobData, FetchJobResult>;

  constructor(
    private readonly redisUrl: string,
    private readonly keys: RedisKeys,
    private readonly service: ClientFetchService,
    private readonly options: {
      concurrency: number;
      globalConcurrency: number;
      lockDurationMs?: number;
      stalledIntervalMs?: number;
    },
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const queue = new Queue(FETCH_QUEUE, {
      connection: bullmqConnection(this.redisUrl, 'worker'),
      prefix: this.keys.queuePrefix,
    });
    queue.on('error', () => undefined);
    await queue.setGlobalConcurrency(this.options.globalConcurrency);
    await queue.close();
    this.worker = new Worker<FetchJobData, FetchJobResult>(FETCH_QUEUE, (job, token) => this.process(job, token), {
      connection: bullmqConnection(this.redisUrl, 'worker'),
      prefix: this.keys.queuePrefix,
      concurrency: this.options.concurrency,
      // A killed fetcher's jobs are moved back to waiting by another fetcher's stalled-job check.
      ...(this.options.lockDurationMs !== undefined ? { lockDuration: this.options.lockDurationMs } : {}),
      ...(this.options.stalledIntervalMs !== undefined ? { stalledInterval: this.options.stalledIntervalMs } : {}),
      settings: { backoffStrategy: backoff },
    });
    this.worker.on('failed', (job, err) => {
      this.logger.warn(
        { job_id: job?.id, client_id: job?.data.client_id, attempts: job?.attemptsMade, err: err.message },
        'fetch attempt failed',
      );
    });
    this.worker.on('error', (err) => this.logger.error({ err: err.message }, 'fetch worker error'));
    await this.worker.waitUntilReady();
  }

  get running(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  /** Stop taking jobs and wait for the running ones to finish (SIGTERM). */
  async close(): Promise<void> {
    await this.worker?.close();
  }

  private async process(job: Job<FetchJobData, FetchJobResult>, token?: string): Promise<FetchJobResult> {
    const data = job.data as Partial<FetchJobData> | undefined;
    if (
      !data ||
      typeof data.client_id !== 'string' ||
      data.client_id.length > CLIENT_ID_MAX_LENGTH ||
      !REASONS.includes(data.reason as FetchReason)
    ) {
      throw new UnrecoverableError('malformed fetch job: expected { client_id: string, reason }');
    }
    try {
      return await this.service.run({
        clientId: data.client_id,
        reason: data.reason as FetchReason,
        attemptsMade: job.attemptsMade,
        requestedAt: job.timestamp,
        ...(job.id ? { jobId: job.id } : {}),
        resumed: job.attemptsStarted > job.attemptsMade + 1,
      });
    } catch (e) {
      if (e instanceof OriginBusyError) {
        await job.moveToDelayed(Date.now() + e.waitMs, token);
        throw new DelayedError();
      }
      throw e;
    }
  }
}

/** Exponential from the job's delay with jitter; at least what Retry-After asked; at most an hour. */
export function backoff(
  attemptsMade: number,
  type?: string,
  err?: Error,
  job?: { opts?: { backoff?: unknown } },
): number {
  const configured = job?.opts?.backoff;
  const delay =
    typeof configured === 'object' && configured && 'delay' in configured
      ? Number((configured as { delay?: number }).delay ?? 2000)
      : 2000;
  const exponential = delay * 2 ** Math.max(0, attemptsMade - 1);
  const jittered = exponential * (0.8 + Math.random() * 0.4);
  const retryAfter = err instanceof TransientFetchError ? (err.retryAfterMs ?? 0) : 0;
  if (type !== FETCH_BACKOFF_TYPE && type !== undefined) return Math.min(jittered, MAX_BACKOFF_MS);
  return Math.round(Math.min(Math.max(jittered, retryAfter), MAX_BACKOFF_MS));
}
