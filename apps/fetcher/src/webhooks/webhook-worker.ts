import { WEBHOOK_QUEUE, WebhookJobData, WebhookJobDataSchema, WebhookJobResult } from '@cimd/contracts';
import { InjectLogger } from '@cimd/runtime';
import { SafeFetcher } from '@cimd/safe-fetch';
import { QueueWorkers } from '@cimd/store';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { FetcherConfig, InjectFetcherConfig } from '../fetcher-config';

/** Largest response body read from a webhook receiver (it is not used, only drained). */
const MAX_RESPONSE_BYTES = 16 * 1024;
/** Deliveries in flight in one fetcher. */
const CONCURRENCY = 8;

/**
 * Delivers the gateway's signed webhooks. It runs in the fetcher because the fetcher is the
 * one component allowed onto the internet, and only through the SSRF-hardened client: a
 * tenant's webhook URL cannot reach anything inside the platform either.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap {
  private worker?: Worker<WebhookJobData, WebhookJobResult>;

  constructor(
    private readonly fetcher: SafeFetcher,
    private readonly workers: QueueWorkers,
    @InjectFetcherConfig() private readonly config: FetcherConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.start().catch((e: Error) => this.logger.error({ err: e.message }, 'the webhook worker could not start'));
  }

  get running(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  private async start(): Promise<void> {
    this.worker = await this.workers.start<WebhookJobData, WebhookJobResult>(
      WEBHOOK_QUEUE,
      (job) => this.deliver(job),
      {
        concurrency: CONCURRENCY,
        lockDurationMs: this.config.lockDurationMs,
        stalledIntervalMs: this.config.stalledIntervalMs,
      },
      (err) => this.logger.error({ err: err.message }, 'webhook worker error'),
    );
  }

  private async deliver(job: Job<WebhookJobData, WebhookJobResult>): Promise<WebhookJobResult> {
    const parsed = WebhookJobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('malformed webhook job');
    const d = parsed.data;
    const log = this.logger.child({ delivery_id: d.delivery_id, tenant: d.tenant_id, attempt: job.attemptsMade + 1 });
    const res = await this.fetcher.post(d.url, {
      accept: '*/*',
      headers: d.headers,
      body: d.body,
      maxBytes: MAX_RESPONSE_BYTES,
    });
    if (res.kind === 'failure') {
      log.warn({ code: res.code, reason: res.message }, 'webhook delivery failed');
      // A URL the safe client refuses will never become deliverable: no retries.
      if (res.outcome === 'blocked') throw new UnrecoverableError(res.message);
      throw new Error(res.message);
    }
    if (res.status < 200 || res.status >= 300) {
      log.warn({ status: res.status }, 'webhook receiver refused the delivery');
      throw new Error(`the receiver answered ${res.status}`);
    }
    log.info({ status: res.status }, 'webhook delivered');
    return { status: res.status };
  }
}
