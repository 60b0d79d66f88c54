// Original file: proto/cimd/v1/gateway.proto

import type { Finding as _cimd_v1_Finding, Finding__Output as _cimd_v1_Finding__Output } from '../../cimd/v1/Finding';

/**
 * What the gateway holds of a client's jwks_uri.
 */
export interface KeySetState {
  'jwks_uri'?: (string);
  /**
   * "valid", "invalid" (what it serves cannot be used) or "unavailable" (not fetched yet).
   */
  'status'?: (string);
  'fetched_at'?: (string);
  /**
   * The kid of each usable key ("" for a key without one).
   */
  'key_ids'?: (string)[];
  'errors'?: (_cimd_v1_Finding)[];
}

/**
 * What the gateway holds of a client's jwks_uri.
 */
export interface KeySetState__Output {
  'jwks_uri'?: (string);
  /**
   * "valid", "invalid" (what it serves cannot be used) or "unavailable" (not fetched yet).
   */
  'status'?: (string);
  'fetched_at'?: (string);
  /**
   * The kid of each usable key ("" for a key without one).
   */
  'key_ids': (string)[];
  'errors': (_cimd_v1_Finding__Output)[];
}
