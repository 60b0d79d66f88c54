// Original file: proto/cimd/v1/gateway.proto


/**
 * An event of one tenant (the items of GET /v1/tenants/{tenant}/events).
 */
export interface TenantEvent {
  /**
   * Increasing integer, as a string; resume after it.
   */
  'id'?: (string);
  'tenant'?: (string);
  /**
   * "session.revoked", "client.changed" or "client.restored".
   */
  'type'?: (string);
  'time'?: (string);
  'client_id'?: (string);
  /**
   * The event's data as a JSON object text, e.g. {"sessions":2,"reason":"client.gone",…}.
   */
  'data_json'?: (string);
  '_client_id'?: "client_id";
}

/**
 * An event of one tenant (the items of GET /v1/tenants/{tenant}/events).
 */
export interface TenantEvent__Output {
  /**
   * Increasing integer, as a string; resume after it.
   */
  'id'?: (string);
  'tenant'?: (string);
  /**
   * "session.revoked", "client.changed" or "client.restored".
   */
  'type'?: (string);
  'time'?: (string);
  'client_id'?: (string);
  /**
   * The event's data as a JSON object text, e.g. {"sessions":2,"reason":"client.gone",…}.
   */
  'data_json'?: (string);
}
