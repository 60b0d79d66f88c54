import { parseCacheEntry, RedisKeys } from '@cimd/contracts';
import { checkClientIdUrl } from '@cimd/core';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { badRequest, conflict, notFound, unavailable } from '../common/api-error';
import { parseBody } from '../common/parse-body';
import { SessionEntity } from '../database/entities';
import { ClientRevocation, SessionState, SessionStatus, sessionStatus } from './session-state';

const PRINTABLE = /^[\x21-\x7e]+$/;
/** Text PostgreSQL stores as given: no U+0000 (refused by a text column), no unpaired surrogate (turned into U+FFFD). */
// eslint-disable-next-line no-control-regex
const STORABLE_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

export const RegisterSessionBody = z
  .object({
    session_id: z.string().min(1).max(256).regex(PRINTABLE, 'must be printable ASCII without spaces'),
    client_id: z.string().min(1).max(8192),
    subject: z
      .string()
      .min(1)
      .max(256)
      .regex(STORABLE_TEXT, 'must not contain U+0000 or an unpaired surrogate')
      .optional(),
    expires_at: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z' })
      .optional(),
  })
  .strict();

/** Session keys in Redis live at most this long after their last load (their truth is PostgreSQL). */
const SESSION_TTL_MS = 30 * 86_400_000;
/** Revocation marks outlive every session key that could predate them. */
export const REVOCATION_TTL_MS = SESSION_TTL_MS + 86_400_000;

function stateOf(row: SessionEntity): SessionState {
  const s: SessionState = { client_id: row.clientId, created_at: row.createdAt.getTime() };
  if (row.expiresAt) s.expires_at = row.expiresAt.getTime();
  if (row.revokedAt) s.revoked_at = row.revokedAt.getTime();
  if (row.revokeReason) s.reason = row.revokeReason;
  return s;
}

/** How long a session's state stays in Redis: a day past its expiry, at most SESSION_TTL_MS. */
function ttlOf(state: SessionState): number {
  return state.expires_at !== undefined
    ? Math.min(Math.max(state.expires_at - Date.now(), 0) + 86_400_000, SESSION_TTL_MS)
    : SESSION_TTL_MS;
}

/**
 * The sessions registry: PostgreSQL is the record; Redis holds each session's state and the
 * bulk revocation marks, so a warm session check reads two Redis keys and no database.
 */
export class SessionsService {
  constructor(
    private readonly db: DataSource,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  /** Idempotent on session_id: registering the same session again returns it unchanged. */
  async register(tenantId: string, body: unknown): Promise<SessionStatus> {
    const input = parseBody(RegisterSessionBody, body);
    const url = checkClientIdUrl(input.client_id);
    if (!url.valid) throw badRequest(url.errors[0]?.message ?? 'client_id is not a valid client identifier URL');
    const entry = parseCacheEntry(await this.redis.get(this.keys.clientEntry(input.client_id)).catch(() => null));
    if (entry && entry.status !== 'valid') {
      throw conflict(
        `client ${input.client_id} is ${entry.status}: its metadata document ${entry.status === 'gone' ? 'has disappeared' : 'is invalid'}; no new session can be registered`,
      );
    }
    const repo = this.db.getRepository(SessionEntity);
    await repo
      .createQueryBuilder()
      .insert()
      .values({
        tenantId,
        sessionId: input.session_id,
        clientId: input.client_id,
        subject: input.subject ?? null,
        expiresAt: input.expires_at ? new Date(input.expires_at) : null,
        revokedAt: null,
        revokeReason: null,
      })
      .orIgnore()
      .execute();
    const row = await repo.findOneByOrFail({ tenantId, sessionId: input.session_id });
    if (row.clientId !== input.client_id) {
      throw conflict(`session ${input.session_id} is already registered for another client`);
    }
    const state = stateOf(row);
    await this.cache(tenantId, input.session_id, state);
    return sessionStatus(state, await this.revocation(tenantId, row.clientId));
  }

  async check(tenantId: string, sessionId: string): Promise<SessionStatus> {
    // Redis down: PostgreSQL answers instead (and the other way round once warm).
    const cached = await this.redis.get(this.keys.session(tenantId, sessionId)).catch(() => null);
    let state = cached ? (JSON.parse(cached) as SessionState) : undefined;
    if (!state) {
      const row = await this.db.getRepository(SessionEntity).findOneBy({ tenantId, sessionId });
      if (!row) throw notFound(`tenant ${tenantId} has no session ${sessionId}`);
      state = stateOf(row);
      await this.cache(tenantId, sessionId, state);
    }
    return sessionStatus(state, await this.revocation(tenantId, state.client_id));
  }

  async revoke(tenantId: string, sessionId: string): Promise<void> {
    const repo = this.db.getRepository(SessionEntity);
    const row = await repo.findOneBy({ tenantId, sessionId });
    if (!row) throw notFound(`tenant ${tenantId} has no session ${sessionId}`);
    if (!row.revokedAt) {
      // Checks read Redis first: it says "revoked" before PostgreSQL does (as the bulk revocation's
      // marks), or a revocation acknowledged while Redis is down would read "active" once it is back.
      const revoked: SessionState = { ...stateOf(row), revoked_at: Date.now(), reason: 'api' };
      try {
        await this.redis.set(this.keys.session(tenantId, sessionId), JSON.stringify(revoked), 'PX', ttlOf(revoked));
      } catch {
        throw unavailable('the session store (Redis) is unreachable, so the session was not revoked; retry shortly');
      }
      await repo.update({ tenantId, sessionId }, { revokedAt: () => 'now()', revokeReason: 'api' });
    }
    const updated = await repo.findOneByOrFail({ tenantId, sessionId });
    await this.cache(tenantId, sessionId, stateOf(updated));
  }

  private async revocation(tenantId: string, clientId: string): Promise<ClientRevocation | undefined> {
    const raw = await this.redis.get(this.keys.clientRevocation(tenantId, clientId)).catch(() => null);
    return raw ? (JSON.parse(raw) as ClientRevocation) : undefined;
  }

  private async cache(tenantId: string, sessionId: string, state: SessionState): Promise<void> {
    const ttl = ttlOf(state);
    await this.redis.set(this.keys.session(tenantId, sessionId), JSON.stringify(state), 'PX', ttl).catch((e: Error) => {
      this.logger.warn(
        { tenant: tenantId, err: e.message },
        'could not cache a session; checks fall back to PostgreSQL',
      );
    });
  }
}
