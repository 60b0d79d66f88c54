import { bullmqConnection, settleWithin } from '@cimd/runtime';
import { RedisKeys, WEBHOOK_QUEUE, WebhookJobData, WebhookJobResult } from '@cimd/contracts';
import { Queue, QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { TenantPoliciesService } from '../tenants/tenant-policies.service';
import type { TenantEvent, TenantEventPublisher } from './tenant-events';

const SWEEP_EVERY_MS = 30_000;
/** A pending delivery untouched this long is checked against the queue. */
const STALE_AFTER_SECONDS = 60;

export interface DeliveryRow {
  id: string;
  tenant_event_id: string;
  url: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/**
 * The webhook delivery log (PostgreSQL): follows the fetcher's attempts through BullMQ's queue
 * events, marks deliveries `delivered` or, after the last attempt, `dead`; a sweep re-enqueues
 * what a crash left unqueued and settles what a missed queue event left pending.
 */
export class WebhookDeliveryLog {
  private events?: QueueEvents;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redisUrl: string,
    private readonly db: DataSource,
    private readonly keys: RedisKeys,
    private readonly queue: Queue<WebhookJobData, WebhookJobResult>,
    private readonly publisher: TenantEventPublisher,
    private readonly policies: TenantPoliciesService,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.events = new QueueEvents(WEBHOOK_QUEUE, {
      connection: bullmqConnection(this.redisUrl, 'worker'),
      prefix: this.keys.queuePrefix,
    });
    this.events.on('error', () => undefined);
    this.events.on('completed', ({ jobId, returnvalue }) => {
      const status = (returnvalue as unknown as WebhookJobResult | undefined)?.status ?? null;
      void this.settle(jobId, { delivered: true, status });
    });
    this.events.on('failed', ({ jobId, failedReason }) => void this.attemptFailed(jobId, failedReason));
    this.timer = setInterval(
      () => void this.sweep().catch((e: Error) => this.logger.warn({ err: e.message }, 'webhook sweep failed')),
      SWEEP_EVERY_MS,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await settleWithin(this.events?.close(), 1000);
  }

  async list(tenantId: string, limit = 100): Promise<DeliveryRow[]> {
    const rows = await this.db.query<
      (Omit<DeliveryRow, 'created_at' | 'delivered_at'> & { created_at: Date; delivered_at: Date | null })[]
    >(
      `SELECT id, tenant_event_id, url, status, attempts, last_status, last_error, created_at, delivered_at
       FROM webhook_deliveries WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [tenantId, limit],
    );
    return rows.map((r) => ({
      ...r,
      tenant_event_id: String(r.tenant_event_id),
      created_at: r.created_at.toISOString(),
      delivered_at: r.delivered_at?.toISOString() ?? null,
    }));
  }

  private async attemptFailed(deliveryId: string, reason: string): Promise<void> {
    const job = await this.queue.getJob(deliveryId).catch(() => undefined);
    // Final after the last attempt, and at once when the fetcher gave up for good (a URL its
    // safe client refuses, e.g. a special-use address, fails unrecoverably on the first attempt).
    const final = job
      ? job.attemptsMade >= (job.opts.attempts ?? 1) || (await job.isFailed().catch(() => false))
      : false;
    if (final) await this.settle(deliveryId, { delivered: false, error: reason });
    else await this.note(deliveryId, reason, job?.attemptsMade);
  }

  private async note(deliveryId: string, error: string, attempts?: number): Promise<void> {
    await this.db
      .query(
        `UPDATE webhook_deliveries SET attempts = COALESCE($2, attempts + 1), last_error = $3, updated_at = now()
         WHERE id = $1 AND status = 'pending'`,
        [deliveryId, attempts ?? null, error.slice(0, 1000)],
      )
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
    const sql = outcome.delivered
      ? `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), updated_at = now(),
           attempts = COALESCE($2, attempts + 1), last_status = $3, last_error = NULL WHERE id = $1 AND status = 'pending'`
      : `UPDATE webhook_deliveries SET status = 'dead', updated_at = now(),
           attempts = COALESCE($2, attempts), last_error = $3 WHERE id = $1 AND status = 'pending'`;
    await this.db
      .query(sql, [deliveryId, attempts, outcome.delivered ? outcome.status : outcome.error.slice(0, 1000)])
      .catch((e: Error) =>
        this.logger.warn({ delivery_id: deliveryId, err: e.message }, 'could not settle a webhook delivery'),
      );
  }

  /** Re-enqueue or settle deliveries that have been pending for a while. */
  async sweep(): Promise<void> {
    const rows = await this.db.query<
      {
        id: string;
        tenant_id: string;
        url: string;
        created_at: Date;
        event_id: string;
        type: string;
        client_id: string | null;
        data: Record<string, unknown>;
        event_time: Date;
      }[]
    >(
      `SELECT d.id, d.tenant_id, d.url, d.created_at, e.id AS event_id, e.type, e.client_id, e.data, e.created_at AS event_time
       FROM webhook_deliveries d JOIN tenant_events e ON e.id = d.tenant_event_id
       WHERE d.status = 'pending' AND d.updated_at < now() - make_interval(secs => $1)
       ORDER BY d.created_at LIMIT 200`,
      [STALE_AFTER_SECONDS],
    );
    for (const r of rows) {
      const job = await this.queue.getJob(r.id);
      const state = job ? await job.getState() : 'missing';
      if (state === 'completed') {
        await this.settle(r.id, { delivered: true, status: job?.returnvalue?.status ?? null });
      } else if (state === 'failed') {
        await this.settle(r.id, { delivered: false, error: job?.failedReason ?? 'failed' });
      } else if (state === 'missing') {
        const webhook = (await this.policies.current(r.tenant_id))?.policy.webhook;
        if (!webhook) {
          await this.settle(r.id, { delivered: false, error: 'the tenant no longer has a webhook' });
          continue;
        }
        const event: TenantEvent = {
          id: String(r.event_id),
          tenant: r.tenant_id,
          type: r.type,
          time: r.event_time.toISOString(),
          client_id: r.client_id,
          data: r.data,
        };
        await this.publisher.enqueue(r.id, event, r.url, webhook.secret, r.created_at.getTime());
        await this.db.query('UPDATE webhook_deliveries SET updated_at = now() WHERE id = $1', [r.id]);
      }
    }
  }
}
