/** A session as kept in Redis for the hot path (RedisKeys.session). Times in ms since epoch. */
export interface SessionState {
  client_id: string;
  created_at: number;
  expires_at?: number;
  revoked_at?: number;
  reason?: string;
}

/** A bulk revocation of one tenant's sessions of one client (RedisKeys.clientRevocation). */
export interface ClientRevocation {
  at: number;
  reason: string;
}

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
