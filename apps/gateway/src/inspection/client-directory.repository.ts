import type { TenantEvent } from '@cimd/contracts';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TenantEventRow, tenantEventOf } from '../events/tenant-events.repository';

/** Which rows a listing keeps, beyond the search text. */
export interface DirectoryFilter {
  /** Substring of the client_id (and so of its host), case-insensitive. */
  q?: string;
  /** The registry's status (valid, invalid, gone), or `unfetched` for clients it does not hold. */
  registryStatus?: 'valid' | 'invalid' | 'gone' | 'unfetched';
  /** Only these client_ids (the failing or suspect index); the fleet listing includes them even when unregistered. */
  only?: readonly string[];
  /** Never these (failing and suspect clients, when listing by registry status). */
  exclude?: readonly string[];
  limit: number;
  offset: number;
}

/** One client of a listing, as PostgreSQL knows it. */
export interface DirectoryRow {
  client_id: string;
  registry_status: string | null;
  first_seen_at: Date | null;
  last_event: string | null;
  last_event_at: Date | null;
  last_changed_at: Date | null;
  last_changes: string[] | null;
  /** The latest authorize check of the client (by the tenant, or by any tenant in the fleet listing). */
  last_checked_at: Date | null;
  checks: number | null;
  /** The tenant's last decision (tenant listing only). */
  last_decision: string | null;
  last_reason: string | null;
  live_sessions: number;
}

/** What is recorded of one tenant's checks of one client. */
export interface TenantSighting {
  first_seen_at: Date;
  last_seen_at: Date;
  checks: number;
  last_decision: string;
  last_reason: string | null;
  last_request: Record<string, string>;
}

const LIVE = 's.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now())';

/**
 * The operator's read model over PostgreSQL: every client the deployment knows (the registry
 * fed by the fetcher's events, and the clients tenants asked about), or those one tenant has
 * seen (its checks and its sessions), searched, filtered and paged in the database; and, per
 * client, what each tenant did with it. Reads only.
 */
@Injectable()
export class ClientDirectoryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A page of the fleet (tenant undefined) or of one tenant's clients, and the number of matches. */
  async list(tenant: string | undefined, filter: DirectoryFilter): Promise<{ rows: DirectoryRow[]; total: number }> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const conditions: string[] = [];
    if (filter.q) conditions.push(`strpos(lower(u.client_id), lower(${param(filter.q)})) > 0`);
    if (filter.only) conditions.push(`u.client_id = ANY(${param(filter.only)}::text[])`);
    if (filter.exclude && filter.exclude.length > 0)
      conditions.push(`NOT (u.client_id = ANY(${param(filter.exclude)}::text[]))`);
    if (filter.registryStatus === 'unfetched') conditions.push('c.status IS NULL');
    else if (filter.registryStatus) conditions.push(`c.status = ${param(filter.registryStatus)}`);

    let universe: string;
    let checked: string;
    let sessionScope = '';
    if (tenant === undefined) {
      universe = 'SELECT client_id FROM clients UNION SELECT client_id FROM tenant_clients';
      if (filter.only) universe += ` UNION SELECT unnest(${param(filter.only)}::text[])`;
      checked = `LEFT JOIN (SELECT client_id, max(last_seen_at) AS last_seen_at, sum(checks)::int AS checks,
                   NULL::varchar AS last_decision, NULL::varchar AS last_reason
                 FROM tenant_clients GROUP BY client_id) t ON t.client_id = u.client_id`;
    } else {
      const t = param(tenant);
      universe = `SELECT client_id FROM tenant_clients WHERE tenant_id = ${t}
                  UNION SELECT client_id FROM sessions WHERE tenant_id = ${t}`;
      checked = `LEFT JOIN tenant_clients t ON t.tenant_id = ${t} AND t.client_id = u.client_id`;
      sessionScope = ` AND s.tenant_id = ${t}`;
    }
    const limit = param(filter.limit);
    const offset = param(filter.offset);
    const rows = await this.db.query<(DirectoryRow & { total: string })[]>(
      `WITH universe AS (${universe}),
       matches AS (
         SELECT u.client_id, c.status AS registry_status, c.first_seen_at, c.last_event, c.last_event_at,
                c.last_changed_at, c.last_changes, t.last_seen_at AS last_checked_at, t.checks,
                t.last_decision, t.last_reason
         FROM universe u
         LEFT JOIN clients c ON c.client_id = u.client_id
         ${checked}
         ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       )
       SELECT m.*, count(*) OVER () AS total,
              (SELECT count(*) FROM sessions s WHERE s.client_id = m.client_id AND ${LIVE}${sessionScope})::int AS live_sessions
       FROM matches m
       ORDER BY GREATEST(m.last_event_at, m.last_checked_at) DESC NULLS LAST, m.client_id
       LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    const total = rows[0] ? Number(rows[0].total) : filter.offset === 0 ? 0 : await this.count(tenant, filter);
    return { rows: rows.map(({ total: _total, ...row }) => row), total };
  }

  /** The number of matches alone, for a page past the end. */
  private async count(tenant: string | undefined, filter: DirectoryFilter): Promise<number> {
    const { total, rows } = await this.list(tenant, { ...filter, offset: 0, limit: 1 });
    return rows.length === 0 ? 0 : total;
  }

  /** The tenants of the deployment with the version of each one's policy (the admin's tenant picker). */
  async tenants(limit: number): Promise<{ id: string; created_at: Date; policy_version: number }[]> {
    return this.db.query(
      `SELECT t.id, t.created_at, COALESCE((SELECT max(p.version) FROM tenant_policies p WHERE p.tenant_id = t.id), 0)::int AS policy_version
       FROM tenants t ORDER BY t.id LIMIT $1`,
      [limit],
    );
  }

  /** The registry's row of one client. */
  async registered(
    clientId: string,
  ): Promise<
    Omit<DirectoryRow, 'last_checked_at' | 'checks' | 'last_decision' | 'last_reason' | 'live_sessions'> | undefined
  > {
    const [row] = await this.db.query<DirectoryRow[]>(
      `SELECT client_id, status AS registry_status, first_seen_at, last_event, last_event_at, last_changed_at, last_changes
       FROM clients WHERE client_id = $1`,
      [clientId],
    );
    return row;
  }

  /** What the tenant's checks of the client recorded. */
  async sighting(tenant: string, clientId: string): Promise<TenantSighting | undefined> {
    const [row] = await this.db.query<TenantSighting[]>(
      `SELECT first_seen_at, last_seen_at, checks, last_decision, last_reason, last_request
       FROM tenant_clients WHERE tenant_id = $1 AND client_id = $2`,
      [tenant, clientId],
    );
    return row;
  }

  /** The clients a tenant has seen, most recently asked about first, with the last request of each. */
  async seenBy(
    tenant: string,
    limit: number,
  ): Promise<{ rows: { client_id: string; last_request: Record<string, string> | null }[]; total: number }> {
    const rows = await this.db.query<
      { client_id: string; last_request: Record<string, string> | null; total: string }[]
    >(
      `WITH universe AS (
         SELECT client_id FROM tenant_clients WHERE tenant_id = $1
         UNION SELECT client_id FROM sessions WHERE tenant_id = $1
       )
       SELECT u.client_id, t.last_request, count(*) OVER () AS total
       FROM universe u LEFT JOIN tenant_clients t ON t.tenant_id = $1 AND t.client_id = u.client_id
       ORDER BY t.last_seen_at DESC NULLS LAST, u.client_id
       LIMIT $2`,
      [tenant, limit],
    );
    return {
      rows: rows.map(({ client_id, last_request }) => ({ client_id, last_request })),
      total: rows[0] ? Number(rows[0].total) : 0,
    };
  }

  /** Sessions of the client per tenant: live ones and all (one tenant's, or every tenant's). */
  async sessionsByTenant(
    clientId: string,
    tenant: string | undefined,
  ): Promise<{ tenant: string; live: number; total: number }[]> {
    const rows = await this.db.query<{ tenant: string; live: number; total: number }[]>(
      `SELECT s.tenant_id AS tenant, (count(*) FILTER (WHERE ${LIVE}))::int AS live, count(*)::int AS total
       FROM sessions s WHERE s.client_id = $1 ${tenant !== undefined ? 'AND s.tenant_id = $2' : ''}
       GROUP BY s.tenant_id ORDER BY s.tenant_id`,
      tenant !== undefined ? [clientId, tenant] : [clientId],
    );
    return rows;
  }

  /** The tenant's events about one client, newest first. */
  async clientEvents(tenant: string, clientId: string, limit: number, beforeId?: string): Promise<TenantEvent[]> {
    const rows = await this.db.query<TenantEventRow[]>(
      `SELECT id, tenant_id, type, client_id, data, created_at FROM tenant_events
       WHERE tenant_id = $1 AND client_id = $2 ${beforeId !== undefined ? 'AND id < $4' : ''}
       ORDER BY id DESC LIMIT $3`,
      beforeId !== undefined ? [tenant, clientId, limit, beforeId] : [tenant, clientId, limit],
    );
    return rows.map(tenantEventOf);
  }
}
