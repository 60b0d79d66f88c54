import { RedisKeys } from '@cimd/contracts';
import {
  ClientRevocation,
  ClientRevocationSchema,
  REVOCATION_MARK_TTL_MS,
  sessionCacheTtlMs,
  SessionState,
  SessionStateSchema,
} from '@cimd/core';
import { InjectRedis, RedisClient } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { SessionEntity } from '../database/entities';

export interface NewSession {
  tenantId: string;
  sessionId: string;
  clientId: string;
  subject?: string;
  expiresAt?: Date;
}

function stateOf(row: SessionEntity): SessionState {
  const s: SessionState = { client_id: row.clientId, created_at: row.createdAt.getTime() };
  if (row.expiresAt) s.expires_at = row.expiresAt.getTime();
  if (row.revokedAt) s.revoked_at = row.revokedAt.getTime();
  if (row.revokeReason) s.reason = row.revokeReason;
  return s;
}

function parseJson<T>(
  raw: string | null,
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
): T | undefined {
  if (raw === null) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The sessions registry: PostgreSQL is the record; Redis holds each session's state and the
 * marks of bulk revocations (a tenant's sessions of one client), so a warm session check reads
 * two Redis keys and no database. The only code that touches either.
 */
@Injectable()
export class SessionsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRedis() private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** Insert unless the (tenant, session id) exists; the stored session either way. */
  async insertIfAbsent(session: NewSession): Promise<SessionState> {
    const repo = this.db.getRepository(SessionEntity);
    await repo
      .createQueryBuilder()
      .insert()
      .values({
        tenantId: session.tenantId,
        sessionId: session.sessionId,
        clientId: session.clientId,
        subject: session.subject ?? null,
        expiresAt: session.expiresAt ?? null,
        revokedAt: null,
        revokeReason: null,
      })
      .orIgnore()
      .execute();
    return stateOf(await repo.findOneByOrFail({ tenantId: session.tenantId, sessionId: session.sessionId }));
  }

  async find(tenantId: string, sessionId: string): Promise<SessionState | undefined> {
    const row = await this.db.getRepository(SessionEntity).findOneBy({ tenantId, sessionId });
    return row ? stateOf(row) : undefined;
  }

  /** Record a revocation by the tenant; the session as stored after it. */
  async markRevoked(tenantId: string, sessionId: string, reason: string): Promise<SessionState> {
    const repo = this.db.getRepository(SessionEntity);
    await repo.update({ tenantId, sessionId, revokedAt: IsNull() }, { revokedAt: () => 'now()', revokeReason: reason });
    return stateOf(await repo.findOneByOrFail({ tenantId, sessionId }));
  }

  /** The session's state as Redis holds it, if it does (undefined also when Redis cannot be read). */
  async cachedState(tenantId: string, sessionId: string): Promise<SessionState | undefined> {
    const raw = await this.redis.get(this.keys.session(tenantId, sessionId)).catch(() => null);
    return parseJson(raw, SessionStateSchema);
  }

  /** Write the session's state to Redis; throws when Redis cannot take it. */
  async cacheState(tenantId: string, sessionId: string, state: SessionState): Promise<void> {
    await this.redis.set(
      this.keys.session(tenantId, sessionId),
      JSON.stringify(state),
      'PX',
      sessionCacheTtlMs(state, Date.now()),
    );
  }

  async revocation(tenantId: string, clientId: string): Promise<ClientRevocation | undefined> {
    const raw = await this.redis.get(this.keys.clientRevocation(tenantId, clientId)).catch(() => null);
    return parseJson(raw, ClientRevocationSchema);
  }

  /**
   * Mark the tenants' sessions of the client revoked in Redis, where session checks look first;
   * throws when any mark could not be set.
   */
  async markClientRevoked(tenants: readonly string[], clientId: string, mark: ClientRevocation): Promise<void> {
    const pipeline = this.redis.multi();
    for (const tenant of tenants)
      pipeline.set(this.keys.clientRevocation(tenant, clientId), JSON.stringify(mark), 'PX', REVOCATION_MARK_TTL_MS);
    const marked = await pipeline.exec();
    if (!marked || marked.some(([err]) => err)) throw new Error('could not set the revocation marks in Redis');
  }

  /** Tenants with an active session of the client. */
  async tenantsWithActiveSessions(clientId: string, manager: EntityManager = this.db.manager): Promise<string[]> {
    const rows = await manager.query<{ tenant_id: string }[]>(
      'SELECT DISTINCT tenant_id FROM sessions WHERE client_id = $1 AND revoked_at IS NULL',
      [clientId],
    );
    return rows.map((r) => r.tenant_id);
  }

  /** Tenants that ever registered a session of the client. */
  async tenantsWithSessions(clientId: string, manager: EntityManager = this.db.manager): Promise<string[]> {
    const rows = await manager.query<{ tenant_id: string }[]>(
      'SELECT DISTINCT tenant_id FROM sessions WHERE client_id = $1',
      [clientId],
    );
    return rows.map((r) => r.tenant_id);
  }

  /** End every active session of the client in these tenants: one statement, whatever the count. Sessions ended, per tenant. */
  async revokeClient(
    clientId: string,
    tenants: readonly string[],
    at: Date,
    reason: string,
    manager: EntityManager = this.db.manager,
  ): Promise<{ tenant_id: string; sessions: number }[]> {
    return manager.query<{ tenant_id: string; sessions: number }[]>(
      `WITH revoked AS (
         UPDATE sessions SET revoked_at = $2, revoke_reason = $3
         WHERE client_id = $1 AND revoked_at IS NULL AND tenant_id = ANY($4)
         RETURNING tenant_id)
       SELECT tenant_id, count(*)::int AS sessions FROM revoked GROUP BY tenant_id`,
      [clientId, at, reason, tenants],
    );
  }

  /** Clients with a live session, in pages ordered by client_id (the scheduled revalidation). */
  async clientsWithLiveSessions(after: string, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ client_id: string }[]>(
      `SELECT DISTINCT client_id FROM sessions
       WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AND client_id > $1
       ORDER BY client_id LIMIT $2`,
      [after, limit],
    );
    return rows.map((r) => r.client_id);
  }
}
