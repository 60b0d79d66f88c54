import { checkClientIdUrl, SessionState, SessionStatus, sessionStatus } from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { ClientCacheRepository } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import { failedPrecondition, invalidRequest, notFound, unavailable } from '../common/domain-error';
import { SessionsRepository } from './sessions.repository';

const PRINTABLE = /^[\x21-\x7e]+$/;
/** Text PostgreSQL stores as given: no U+0000 (refused by a text column), no unpaired surrogate (turned into U+FFFD). */
// eslint-disable-next-line no-control-regex
const STORABLE_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

export const SessionIdSchema = z.string().min(1).max(256).regex(PRINTABLE, 'must be printable ASCII without spaces');

/** A session registration as either transport receives it. */
export const RegisterSessionBody = z
  .object({
    session_id: SessionIdSchema.meta({ description: "The tenant's own id for the grant (idempotency key)" }),
    client_id: z.string().min(1).max(8192).meta({ description: 'The client the session was granted to' }),
    subject: z
      .string()
      .min(1)
      .max(256)
      .regex(STORABLE_TEXT, 'must not contain U+0000 or an unpaired surrogate')
      .optional()
      .meta({ description: "The user, for the tenant's own records" }),
    expires_at: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z' })
      .optional()
      .meta({ description: 'When the session ends by itself' }),
  })
  .strict()
  .meta({ description: 'A session a tenant granted to a client, to be revoked with the client' });
export type RegisterSession = z.output<typeof RegisterSessionBody>;

/**
 * Sessions a tenant granted to CIMD clients, registered so they end with the client: when its
 * document vanishes, breaks, or changes in a way the tenant's policy revokes on.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly cache: ClientCacheRepository,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  /** Idempotent on session_id: registering the same session again returns it unchanged. */
  async register(tenantId: string, input: RegisterSession): Promise<SessionStatus> {
    const url = checkClientIdUrl(input.client_id);
    if (!url.valid) throw invalidRequest(url.errors[0]?.message ?? 'client_id is not a valid client identifier URL');
    const entry = await this.cache.get(input.client_id).catch(() => undefined);
    if (entry && entry.status !== 'valid') {
      throw failedPrecondition(
        `client ${input.client_id} is ${entry.status}: its metadata document ${entry.status === 'gone' ? 'has disappeared' : 'is invalid'}; no new session can be registered`,
      );
    }
    const state = await this.sessions.insertIfAbsent({
      tenantId,
      sessionId: input.session_id,
      clientId: input.client_id,
      ...(input.subject !== undefined ? { subject: input.subject } : {}),
      ...(input.expires_at !== undefined ? { expiresAt: new Date(input.expires_at) } : {}),
    });
    if (state.client_id !== input.client_id) {
      throw failedPrecondition(`session ${input.session_id} is already registered for another client`);
    }
    await this.keepInRedis(tenantId, input.session_id, state);
    return sessionStatus(state, await this.sessions.revocation(tenantId, state.client_id));
  }

  async check(tenantId: string, sessionId: string): Promise<SessionStatus> {
    // Redis down: PostgreSQL answers instead (and the other way round once warm).
    let state = await this.sessions.cachedState(tenantId, sessionId);
    if (!state) {
      state = await this.sessions.find(tenantId, sessionId);
      if (!state) throw notFound(`tenant ${tenantId} has no session ${sessionId}`);
      await this.keepInRedis(tenantId, sessionId, state);
    }
    return sessionStatus(state, await this.sessions.revocation(tenantId, state.client_id));
  }

  async revoke(tenantId: string, sessionId: string): Promise<void> {
    const state = await this.sessions.find(tenantId, sessionId);
    if (!state) throw notFound(`tenant ${tenantId} has no session ${sessionId}`);
    let stored = state;
    if (state.revoked_at === undefined) {
      // Checks read Redis first: it says "revoked" before PostgreSQL does (as the bulk revocation's
      // marks), or a revocation acknowledged while Redis is down would read "active" once it is back.
      const revoked: SessionState = { ...state, revoked_at: Date.now(), reason: 'api' };
      try {
        await this.sessions.cacheState(tenantId, sessionId, revoked);
      } catch {
        throw unavailable('the session store (Redis) is unreachable, so the session was not revoked; retry shortly');
      }
      stored = await this.sessions.markRevoked(tenantId, sessionId, 'api');
    }
    await this.keepInRedis(tenantId, sessionId, stored);
  }

  private async keepInRedis(tenantId: string, sessionId: string, state: SessionState): Promise<void> {
    await this.sessions.cacheState(tenantId, sessionId, state).catch((e: Error) => {
      this.logger.warn(
        { tenant: tenantId, err: e.message },
        'could not cache a session; checks fall back to PostgreSQL',
      );
    });
  }
}
