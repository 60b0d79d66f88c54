import type { AuthorizeRequest } from '@cimd/core';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** One tenant's checks of one client since the last flush. */
export interface Sighting {
  tenant: string;
  clientId: string;
  /** When the latest check was made (ms since the epoch). */
  seenAt: number;
  checks: number;
  decision: string;
  reason: string | null;
  /** The latest check's request (its client_id is not stored again). */
  request: AuthorizeRequest;
}

/** What is kept of a tenant's clients: the last check and its decision (`tenant_clients`). */
@Injectable()
export class TenantClientsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Merge a batch of sightings in one statement: counts add up, the latest check wins (replicas
   * flush in any order). Sightings of a tenant that no longer exists are dropped.
   */
  async merge(batch: readonly Sighting[]): Promise<void> {
    if (batch.length === 0) return;
    await this.db.query(
      `INSERT INTO tenant_clients (tenant_id, client_id, first_seen_at, last_seen_at, checks, last_decision, last_reason, last_request)
       SELECT s.tenant_id, s.client_id, s.seen_at, s.seen_at, s.checks, s.decision, s.reason, s.request
       FROM unnest($1::varchar[], $2::text[], $3::timestamptz[], $4::int[], $5::varchar[], $6::varchar[], $7::jsonb[])
         AS s(tenant_id, client_id, seen_at, checks, decision, reason, request)
       JOIN tenants t ON t.id = s.tenant_id
       ON CONFLICT (tenant_id, client_id) DO UPDATE SET
         checks = tenant_clients.checks + EXCLUDED.checks,
         first_seen_at = LEAST(tenant_clients.first_seen_at, EXCLUDED.first_seen_at),
         last_decision = CASE WHEN EXCLUDED.last_seen_at >= tenant_clients.last_seen_at THEN EXCLUDED.last_decision ELSE tenant_clients.last_decision END,
         last_reason = CASE WHEN EXCLUDED.last_seen_at >= tenant_clients.last_seen_at THEN EXCLUDED.last_reason ELSE tenant_clients.last_reason END,
         last_request = CASE WHEN EXCLUDED.last_seen_at >= tenant_clients.last_seen_at THEN EXCLUDED.last_request ELSE tenant_clients.last_request END,
         last_seen_at = GREATEST(tenant_clients.last_seen_at, EXCLUDED.last_seen_at)`,
      [
        batch.map((s) => s.tenant),
        batch.map((s) => s.clientId),
        batch.map((s) => new Date(s.seenAt).toISOString()),
        batch.map((s) => s.checks),
        batch.map((s) => s.decision),
        batch.map((s) => s.reason),
        batch.map((s) => JSON.stringify({ ...s.request, client_id: undefined })),
      ],
    );
  }

  /** Forget the clients a tenant has not asked about since `before`; how many went. */
  async prune(before: Date): Promise<number> {
    const [, count] = await this.db.query<[unknown, number]>('DELETE FROM tenant_clients WHERE last_seen_at < $1', [
      before.toISOString(),
    ]);
    return count;
  }
}
