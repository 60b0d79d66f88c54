// Original file: proto/cimd/v1/gateway.proto


export interface RegisterSessionRequest {
  'tenant'?: (string);
  /**
   * The caller's id for the session: 1-256 printable ASCII characters without spaces.
   */
  'session_id'?: (string);
  /**
   * The client_id the session was granted to (a client identifier URL).
   */
  'client_id'?: (string);
  /**
   * The user of the session (1-256 characters), for the caller's own records.
   */
  'subject'?: (string);
  /**
   * When the session ends by itself: an RFC 3339 date-time, e.g. "2026-12-01T00:00:00Z".
   */
  'expires_at'?: (string);
  '_subject'?: "subject";
  '_expires_at'?: "expires_at";
}

export interface RegisterSessionRequest__Output {
  'tenant'?: (string);
  /**
   * The caller's id for the session: 1-256 printable ASCII characters without spaces.
   */
  'session_id'?: (string);
  /**
   * The client_id the session was granted to (a client identifier URL).
   */
  'client_id'?: (string);
  /**
   * The user of the session (1-256 characters), for the caller's own records.
   */
  'subject'?: (string);
  /**
   * When the session ends by itself: an RFC 3339 date-time, e.g. "2026-12-01T00:00:00Z".
   */
  'expires_at'?: (string);
}
