import { z } from 'zod';

/** A session as kept in Redis for the hot path. Times in ms since epoch. */
export const SessionStateSchema = z.object({
  client_id: z.string(),
  created_at: z.number(),
  expires_at: z.number().optional(),
  revoked_at: z.number().optional(),
  reason: z.string().optional(),
});
export type SessionState = z.output<typeof SessionStateSchema>;

/** A bulk revocation of one tenant's sessions of one client: sessions created before `at` are over. */
export const ClientRevocationSchema = z.object({ at: z.number(), reason: z.string() });
export type ClientRevocation = z.output<typeof ClientRevocationSchema>;

export interface SessionStatus {
  active: boolean;
  client_id: string;
  created_at: string;
  expires_at?: string;
  revoked_at?: string;
  /** `api`, `expired`, `client.gone`, `client.invalid`, `client.changed:<kinds>`. */
  reason?: string;
}

/** The one rule that says whether a session is still active. */
export function sessionStatus(
  s: SessionState,
  revocation: ClientRevocation | undefined,
  now = Date.now(),
): SessionStatus {
  const base: SessionStatus = {
    active: true,
    client_id: s.client_id,
    created_at: new Date(s.created_at).toISOString(),
  };
  if (s.expires_at !== undefined) base.expires_at = new Date(s.expires_at).toISOString();
  if (s.revoked_at !== undefined) {
    return { ...base, active: false, revoked_at: new Date(s.revoked_at).toISOString(), reason: s.reason ?? 'api' };
  }
  // A bulk revocation ends every session that existed when it happened.
  if (revocation && revocation.at >= s.created_at) {
    return { ...base, active: false, revoked_at: new Date(revocation.at).toISOString(), reason: revocation.reason };
  }
  if (s.expires_at !== undefined && s.expires_at <= now) return { ...base, active: false, reason: 'expired' };
  return base;
}

/** Session state stays in Redis at most this long after its last load (its record is in PostgreSQL). */
export const SESSION_CACHE_TTL_MS = 30 * 86_400_000;
/** Revocation marks outlive every session state that could predate them. */
export const REVOCATION_MARK_TTL_MS = SESSION_CACHE_TTL_MS + 86_400_000;

/** How long a session's state stays in Redis: a day past its expiry, at most SESSION_CACHE_TTL_MS. */
export function sessionCacheTtlMs(state: SessionState, now: number): number {
  return state.expires_at !== undefined
    ? Math.min(Math.max(state.expires_at - now, 0) + 86_400_000, SESSION_CACHE_TTL_MS)
    : SESSION_CACHE_TTL_MS;
}
