import { WEBHOOK_QUEUE, WebhookJobData, WebhookJobResult } from '@cimd/contracts';
import { InjectLogger } from '@cimd/runtime';
import { QueueWorkers } from '@cimd/store';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { TenantEventPublisher } from './tenant-event.publisher';
import { DeliveryRow, WebhookDeliveriesRepository } from './webhook-deliveries.repository';

const SWEEP_EVERY_MS = 30_000;
/** A pending delivery untouched this long is checked against the queue. */
const STALE_AFTER_SECONDS = 60;

/**
 * Keeps the webhook delivery log in step with the fetcher's attempts: follows BullMQ's queue
 * events and marks deliveries `delivered` or, after the last attempt, `dead`; a sweep
 * re-enqueues what a crash left unqueued and settles what a missed queue event left pending.
 */
@Injectable()
export class WebhookDeliveryLog implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly publisher: TenantEventPublisher,
    private readonly workers: QueueWorkers,
    @InjectQueue(WEBHOOK_QUEUE) private readonly queue: Queue<WebhookJobData, WebhookJobResult>,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const events = this.workers.events(WEBHOOK_QUEUE);
    events.on('completed', ({ jobId, returnvalue }) => {
      const status = (returnvalue as unknown as WebhookJobResult | undefined)?.status ?? null;
      void this.settle(jobId, { delivered: true, status });
    });
    events.on('failed', ({ jobId, failedReason }) => void this.attemptFailed(jobId, failedReason));
    // A failed attempt with retries left is delayed until its retry is due: sign the retry for then.
    events.on('delayed', ({ jobId, delay }) => void this.publisher.resign(jobId, Number(delay)));
    this.timer = setInterval(
      () => void this.sweep().catch((e: Error) => this.logger.warn({ err: e.message }, 'webhook sweep failed')),
      SWEEP_EVERY_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  list(tenantId: string, limit = 100): Promise<DeliveryRow[]> {
    return this.deliveries.list(tenantId, limit);
  }

  private async attemptFailed(deliveryId: string, reason: string): Promise<void> {
    const job = await this.queue.getJob(deliveryId).catch(() => undefined);
    // Final after the last attempt, and at once when the fetcher gave up for good (a URL its
    // safe client refuses, e.g. a special-use address, fails unrecoverably on the first attempt).
    const final = job
      ? job.attemptsMade >= (job.opts.attempts ?? 1) || (await job.isFailed().catch(() => false))
      : false;
    if (final) await this.settle(deliveryId, { delivered: false, error: reason });
    else
      await this.deliveries
        .noteAttempt(deliveryId, reason, job?.attemptsMade)
        .catch((e: Error) =>
          this.logger.warn({ delivery_id: deliveryId, err: e.message }, 'could not log a webhook attempt'),
        );
  }

  private async settle(
    deliveryId: string,
    outcome: { delivered: true; status: number | null } | { delivered: false; error: string },
  ): Promise<void> {
    const job = await this.queue.getJob(deliveryId).catch(() => undefined);
    const attempts = job?.attemptsMade ?? null;
    await (
      outcome.delivered
        ? this.deliveries.delivered(deliveryId, attempts, outcome.status)
        : this.deliveries.dead(deliveryId, attempts, outcome.error)
    ).catch((e: Error) =>
      this.logger.warn({ delivery_id: deliveryId, err: e.message }, 'could not settle a webhook delivery'),
    );
  }

  /** Re-enqueue or settle deliveries that have been pending for a while. */
  async sweep(): Promise<void> {
    for (const pending of await this.deliveries.untouchedFor(STALE_AFTER_SECONDS, 200)) {
      const job = await this.queue.getJob(pending.id);
      const state = job ? await job.getState() : 'missing';
      if (state === 'completed') {
        await this.settle(pending.id, { delivered: true, status: job?.returnvalue?.status ?? null });
      } else if (state === 'failed') {
        await this.settle(pending.id, { delivered: false, error: job?.failedReason ?? 'failed' });
      } else if (state === 'missing') {
        if (await this.publisher.enqueue(pending)) await this.deliveries.touch(pending.id);
        else await this.settle(pending.id, { delivered: false, error: 'the tenant no longer has a webhook' });
      }
    }
  }
}
