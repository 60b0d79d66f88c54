import { RedisKeys, WEBHOOK_QUEUE, WebhookJobData, WebhookJobResult } from '@cimd/contracts';
import { SafeFetcher } from '@cimd/safe-fetch';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { bullmqConnection } from '@cimd/runtime';
import type { Logger } from 'pino';

/** Largest response body read from a webhook receiver (it is not used, only drained). */
const MAX_RESPONSE_BYTES = 16 * 1024;

/**
 * Delivers the gateway's signed webhooks. It runs in the fetcher because the fetcher is the
 * one component allowed onto the internet, and only through the SSRF-hardened client: a
 * tenant's webhook URL cannot reach anything inside the platform either.
 */
export class WebhookWorker {
  private worker?: Worker<WebhookJobData, WebhookJobResult>;

  constructor(
    private readonly redisUrl: string,
    private readonly keys: RedisKeys,
    private readonly fetcher: SafeFetcher,
    private readonly logger: Logger,
    private readonly concurrency = 8,
    private readonly locks: { lockDurationMs?: number; stalledIntervalMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    this.worker = new Worker<WebhookJobData, WebhookJobResult>(WEBHOOK_QUEUE, (job) => this.deliver(job), {
      connection: bullmqConnection(this.redisUrl, 'worker'),
      prefix: this.keys.queuePrefix,
      concurrency: this.concurrency,
      ...(this.locks.lockDurationMs !== undefined ? { lockDuration: this.locks.lockDurationMs } : {}),
      ...(this.locks.stalledIntervalMs !== undefined ? { stalledInterval: this.locks.stalledIntervalMs } : {}),
    });
    this.worker.on('error', (err) => this.logger.error({ err: err.message }, 'webhook worker error'));
    await this.worker.waitUntilReady();
  }

  get running(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }

  private async deliver(job: Job<WebhookJobData, WebhookJobResult>): Promise<WebhookJobResult> {
    const d = job.data as Partial<WebhookJobData> | undefined;
    if (!d || typeof d.url !== 'string' || typeof d.body !== 'string' || !d.headers || typeof d.headers !== 'object') {
      throw new UnrecoverableError('malformed webhook job');
    }
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
