import type { TenantEvent } from '@cimd/contracts';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TenantEventRow, tenantEventOf } from './tenant-events.repository';

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

/** A pending delivery with its event, as it must be enqueued (again). */
export interface PendingDelivery {
  id: string;
  url: string;
  createdAt: Date;
  event: TenantEvent;
}

type PendingRow = Omit<TenantEventRow, 'id' | 'created_at'> & {
  id: string;
  url: string;
  created_at: Date;
  event_id: string;
  event_time: Date;
};

function pendingOf(r: PendingRow): PendingDelivery {
  return {
    id: r.id,
    url: r.url,
    createdAt: r.created_at,
    event: tenantEventOf({ ...r, id: r.event_id, created_at: r.event_time }),
  };
}

const PENDING_SELECT = `SELECT d.id, d.tenant_id, d.url, d.created_at, e.id AS event_id, e.type, e.client_id, e.data,
  e.created_at AS event_time FROM webhook_deliveries d JOIN tenant_events e ON e.id = d.tenant_event_id`;

/** The webhook delivery log (`webhook_deliveries`): one row per event and webhook, pending until delivered or dead. */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(manager: EntityManager, delivery: { id: string; tenant: string; eventId: string; url: string }) {
    await manager.query(
      "INSERT INTO webhook_deliveries (id, tenant_id, tenant_event_id, url, status) VALUES ($1, $2, $3, $4, 'pending')",
      [delivery.id, delivery.tenant, delivery.eventId, delivery.url],
    );
  }

  /** Deliveries caused by this client event that are still pending. */
  async pendingFor(manager: EntityManager, causeEventId: string): Promise<PendingDelivery[]> {
    const rows = await manager.query<PendingRow[]>(
      `${PENDING_SELECT} WHERE d.status = 'pending' AND e.data->>'cause_event_id' = $1`,
      [causeEventId],
    );
    return rows.map(pendingOf);
  }

  /** Pending deliveries untouched for `seconds`, oldest first. */
  async untouchedFor(seconds: number, limit: number): Promise<PendingDelivery[]> {
    const rows = await this.db.query<PendingRow[]>(
      `${PENDING_SELECT} WHERE d.status = 'pending' AND d.updated_at < now() - make_interval(secs => $1)
       ORDER BY d.created_at LIMIT $2`,
      [seconds, limit],
    );
    return rows.map(pendingOf);
  }

  async touch(id: string): Promise<void> {
    await this.db.query('UPDATE webhook_deliveries SET updated_at = now() WHERE id = $1', [id]);
  }

  async list(tenantId: string, limit: number): Promise<DeliveryRow[]> {
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

  /** An attempt failed and more will follow. */
  async noteAttempt(id: string, error: string, attempts: number | undefined): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET attempts = COALESCE($2, attempts + 1), last_error = $3, updated_at = now()
       WHERE id = $1 AND status = 'pending'`,
      [id, attempts ?? null, error.slice(0, 1000)],
    );
  }

  async delivered(id: string, attempts: number | null, status: number | null): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), updated_at = now(),
         attempts = COALESCE($2, attempts + 1), last_status = $3, last_error = NULL WHERE id = $1 AND status = 'pending'`,
      [id, attempts, status],
    );
  }

  async dead(id: string, attempts: number | null, error: string): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'dead', updated_at = now(),
         attempts = COALESCE($2, attempts), last_error = $3 WHERE id = $1 AND status = 'pending'`,
      [id, attempts, error.slice(0, 1000)],
    );
  }
}
