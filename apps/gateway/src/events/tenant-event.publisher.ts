import {
  CHANNELS,
  DEFAULT_WEBHOOK_JOB_OPTIONS,
  TenantEvent,
  WEBHOOK_JOB,
  WEBHOOK_QUEUE,
  WebhookJobData,
  WebhookJobResult,
  standardWebhookHeaders,
  webhookSignature,
} from '@cimd/contracts';
import { InjectLogger } from '@cimd/runtime';
import { RedisPubSub } from '@cimd/store';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import type { PendingDelivery } from './webhook-deliveries.repository';

/**
 * Where tenant events go once committed: the live channel (every gateway's WatchEvents
 * streams), and signed webhook deliveries on the queue the fetcher works.
 */
@Injectable()
export class TenantEventPublisher {
  constructor(
    private readonly pubsub: RedisPubSub,
    @InjectQueue(WEBHOOK_QUEUE) private readonly webhooks: Queue<WebhookJobData, WebhookJobResult>,
    private readonly policies: TenantPoliciesService,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  async published(events: readonly TenantEvent[], deliveries: readonly PendingDelivery[]): Promise<void> {
    for (const event of events) {
      await this.pubsub.publish(CHANNELS.tenantEvents, event).catch((e: Error) => {
        this.logger.warn({ err: e.message }, 'could not publish a tenant event live; watchers catch up from the log');
      });
    }
    for (const d of deliveries) await this.enqueue(d);
  }

  /**
   * Idempotent: the job id is the delivery id. Signed for an attempt now; each retry is signed
   * again for its own time (resign). False when the tenant no longer has a webhook (the sweep
   * then settles the delivery as dead).
   */
  async enqueue(delivery: PendingDelivery): Promise<boolean> {
    const { id, event, url } = delivery;
    const secret = await this.secret(event.tenant);
    if (secret === undefined) return false;
    const body = JSON.stringify(event);
    const data: WebhookJobData = {
      delivery_id: id,
      tenant_id: event.tenant,
      url,
      body,
      headers: {
        'content-type': 'application/json',
        ...standardWebhookHeaders(secret, id, unixSeconds(Date.now()), body),
        'x-cimd-event-id': event.id,
        'x-cimd-event-type': event.type,
        'x-cimd-delivery-id': id,
        // Deprecated, same bytes on every retry: the creation time, the secret string as the key.
        'x-cimd-signature': webhookSignature(secret, body, unixSeconds(delivery.createdAt.getTime())),
      },
    };
    await this.webhooks.add(WEBHOOK_JOB, data, { ...DEFAULT_WEBHOOK_JOB_OPTIONS, jobId: id }).catch((e: Error) => {
      this.logger.warn({ delivery_id: id, err: e.message }, 'could not enqueue a webhook; the sweeper retries');
    });
    return true;
  }

  /**
   * A failed attempt waits for its retry (BullMQ's `delayed` event, with the time it is due):
   * sign the retry for that time, as Standard Webhooks wants (the timestamp of the attempt, so
   * receivers can refuse replays), with the tenant's secret of now. Every gateway hears the event
   * and writes the same headers. Missed (no gateway listening), the retry goes out with the
   * previous attempt's timestamp.
   */
  async resign(deliveryId: string, dueAt: number): Promise<void> {
    try {
      const job = await this.webhooks.getJob(deliveryId);
      if (!job || !(await job.isDelayed())) return;
      const secret = await this.secret(job.data.tenant_id);
      if (secret === undefined) return;
      const headers = standardWebhookHeaders(secret, job.data.delivery_id, unixSeconds(dueAt), job.data.body);
      await job.updateData({ ...job.data, headers: { ...job.data.headers, ...headers } });
    } catch (e) {
      this.logger.warn(
        { delivery_id: deliveryId, err: (e as Error).message },
        'could not sign a webhook retry again; it goes out with the previous timestamp',
      );
    }
  }

  private async secret(tenant: string): Promise<string | undefined> {
    return (await this.policies.current(tenant))?.policy.webhook?.secret;
  }
}

function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
