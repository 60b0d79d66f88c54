import {
  CHANNELS,
  DEFAULT_WEBHOOK_JOB_OPTIONS,
  TenantEvent,
  WEBHOOK_JOB,
  WEBHOOK_QUEUE,
  WebhookJobData,
  WebhookJobResult,
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
   * Idempotent: the job id is the delivery id. Signed with the delivery's creation time, so every
   * retry sends the same bytes. False when the tenant no longer has a webhook (the sweep then
   * settles the delivery as dead).
   */
  async enqueue(delivery: PendingDelivery): Promise<boolean> {
    const { id, event, url } = delivery;
    const secret = (await this.policies.current(event.tenant))?.policy.webhook?.secret;
    if (secret === undefined) return false;
    const body = JSON.stringify(event);
    const data: WebhookJobData = {
      delivery_id: id,
      tenant_id: event.tenant,
      url,
      body,
      headers: {
        'content-type': 'application/json',
        'x-cimd-event-id': event.id,
        'x-cimd-event-type': event.type,
        'x-cimd-delivery-id': id,
        'x-cimd-signature': webhookSignature(secret, body, Math.floor(delivery.createdAt.getTime() / 1000)),
      },
    };
    await this.webhooks.add(WEBHOOK_JOB, data, { ...DEFAULT_WEBHOOK_JOB_OPTIONS, jobId: id }).catch((e: Error) => {
      this.logger.warn({ delivery_id: id, err: e.message }, 'could not enqueue a webhook; the sweeper retries');
    });
    return true;
  }
}
