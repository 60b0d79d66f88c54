// Original file: proto/cimd/v1/gateway.proto


/**
 * A session's state (the body of GET /v1/tenants/{tenant}/sessions/{session_id}).
 */
export interface SessionStatus {
  'active'?: (boolean);
  'client_id'?: (string);
  'created_at'?: (string);
  'expires_at'?: (string);
  /**
   * When it was revoked (absent when it is active or merely expired).
   */
  'revoked_at'?: (string);
  /**
   * Why it is not active: "api", "expired", "client.gone", "client.invalid" or
   * "client.changed:<kinds>".
   */
  'reason'?: (string);
  '_expires_at'?: "expires_at";
  '_revoked_at'?: "revoked_at";
  '_reason'?: "reason";
}

/**
 * A session's state (the body of GET /v1/tenants/{tenant}/sessions/{session_id}).
 */
export interface SessionStatus__Output {
  'active'?: (boolean);
  'client_id'?: (string);
  'created_at'?: (string);
  'expires_at'?: (string);
  /**
   * When it was revoked (absent when it is active or merely expired).
   */
  'revoked_at'?: (string);
  /**
   * Why it is not active: "api", "expired", "client.gone", "client.invalid" or
   * "client.changed:<kinds>".
   */
  'reason'?: (string);
}
