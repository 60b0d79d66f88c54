import type { TenantEvent, TenantEventType } from '@cimd/contracts';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

interface EventRow {
  id: string;
  tenant_id: string;
  type: TenantEventType;
  client_id: string | null;
  data: Record<string, unknown>;
  created_at: Date;
}

function eventOf(r: EventRow): TenantEvent {
  return {
    id: String(r.id),
    tenant: r.tenant_id,
    type: r.type,
    time: r.created_at.toISOString(),
    client_id: r.client_id,
    data: r.data,
  };
}

/** Each tenant's own events, in order (`tenant_events`), and the record of bulk revocations (`revocations`). */
@Injectable()
export class TenantEventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async append(
    manager: EntityManager,
    event: { tenant: string; type: TenantEventType; clientId: string; data: Record<string, unknown> },
  ): Promise<TenantEvent> {
    const [row] = await manager.query<[{ id: string; created_at: Date }]>(
      'INSERT INTO tenant_events (tenant_id, type, client_id, data) VALUES ($1, $2, $3, $4) RETURNING id, created_at',
      [event.tenant, event.type, event.clientId, JSON.stringify(event.data)],
    );
    return eventOf({ ...row, tenant_id: event.tenant, type: event.type, client_id: event.clientId, data: event.data });
  }

  /** The tenant's events after `afterId`, oldest first (resumable reads). */
  async list(tenantId: string, afterId: string, limit: number): Promise<TenantEvent[]> {
    const rows = await this.db.query<EventRow[]>(
      'SELECT id, tenant_id, type, client_id, data, created_at FROM tenant_events WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [tenantId, afterId, limit],
    );
    return rows.map(eventOf);
  }

  /** The id of the tenant's newest event ('0' when it has none): where a reader of only new events starts. */
  async latestId(tenantId: string): Promise<string> {
    const [row] = await this.db.query<[{ id: string | null }]>(
      'SELECT max(id)::text AS id FROM tenant_events WHERE tenant_id = $1',
      [tenantId],
    );
    return row?.id ?? '0';
  }

  async recordRevocation(
    manager: EntityManager,
    revocation: { tenant: string; clientId: string; reason: string; causeEventId: string; sessions: number },
  ): Promise<void> {
    await manager.query(
      'INSERT INTO revocations (tenant_id, client_id, reason, cause_event_id, sessions) VALUES ($1, $2, $3, $4, $5)',
      [revocation.tenant, revocation.clientId, revocation.reason, revocation.causeEventId, revocation.sessions],
    );
  }
}

export { eventOf as tenantEventOf };
export type { EventRow as TenantEventRow };
