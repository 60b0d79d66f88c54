// Original file: proto/cimd/v1/gateway.proto


export interface CacheState {
  /**
   * "hit", "refreshing", "fetched" or "stale".
   */
  'status'?: (string);
  'fetched_at'?: (string);
  'expires_at'?: (string);
}

export interface CacheState__Output {
  /**
   * "hit", "refreshing", "fetched" or "stale".
   */
  'status'?: (string);
  'fetched_at'?: (string);
  'expires_at'?: (string);
}
