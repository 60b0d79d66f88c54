import {
  DEFAULT_WEBHOOK_JOB_OPTIONS,
  RedisKeys,
  WEBHOOK_JOB,
  WebhookJobData,
  WebhookJobResult,
  webhookSignature,
} from '@cimd/contracts';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Subscriptions } from '../infra/subscriptions';

/**
 * An event of one tenant (`tenant_events`): `session.revoked` (one per tenant and cause, with
 * the count of sessions ended), `client.changed` (a change the tenant only wants to hear
 * about) and `client.restored`. `id` increases; resume after it.
 */
export interface TenantEvent {
  id: string;
  tenant: string;
  type: string;
  time: string;
  client_id: string | null;
  data: Record<string, unknown>;
}

/**
 * Where tenant events go once committed: the live channel (every gateway's WatchEvents
 * streams), and signed webhook deliveries on the queue the fetcher works.
 */
export class TenantEventPublisher {
  constructor(
    private readonly db: DataSource,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly webhooks: Queue<WebhookJobData, WebhookJobResult>,
    private readonly logger: Logger,
  ) {}

  async published(
    events: TenantEvent[],
    deliveries: { id: string; event: TenantEvent; url: string; secret: string }[],
  ): Promise<void> {
    for (const event of events) {
      await this.redis.publish(this.keys.tenantEvents, JSON.stringify(event)).catch((e: Error) => {
        this.logger.warn({ err: e.message }, 'could not publish a tenant event live; watchers catch up from the log');
      });
    }
    for (const d of deliveries) await this.enqueue(d.id, d.event, d.url, d.secret);
  }

  /** Idempotent: the job id is the delivery id. */
  async enqueue(
    deliveryId: string,
    event: TenantEvent,
    url: string,
    secret: string,
    createdAt = Date.now(),
  ): Promise<void> {
    const body = JSON.stringify(event);
    const data: WebhookJobData = {
      delivery_id: deliveryId,
      tenant_id: event.tenant,
      url,
      body,
      headers: {
        'content-type': 'application/json',
        'x-cimd-event-id': event.id,
        'x-cimd-event-type': event.type,
        'x-cimd-delivery-id': deliveryId,
        'x-cimd-signature': webhookSignature(secret, body, Math.floor(createdAt / 1000)),
      },
    };
    await this.webhooks
      .add(WEBHOOK_JOB, data, { ...DEFAULT_WEBHOOK_JOB_OPTIONS, jobId: deliveryId })
      .catch((e: Error) => {
        this.logger.warn(
          { delivery_id: deliveryId, err: e.message },
          'could not enqueue a webhook; the sweeper retries',
        );
      });
  }

  /** The tenant's events after `afterId`, oldest first (resumable reads). */
  async list(tenantId: string, afterId: string, limit: number): Promise<TenantEvent[]> {
    const rows = await this.db.query<
      {
        id: string;
        tenant_id: string;
        type: string;
        client_id: string | null;
        data: Record<string, unknown>;
        created_at: Date;
      }[]
    >(
      'SELECT id, tenant_id, type, client_id, data, created_at FROM tenant_events WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [tenantId, afterId, limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      tenant: r.tenant_id,
      type: r.type,
      time: r.created_at.toISOString(),
      client_id: r.client_id,
      data: r.data,
    }));
  }

  /** Live events of every tenant, as published by any gateway. */
  async listen(subscriptions: Subscriptions, handler: (event: TenantEvent) => void): Promise<void> {
    await subscriptions.on(this.keys.tenantEvents, (raw) => handler(JSON.parse(raw) as TenantEvent));
  }
}
