// Original file: proto/cimd/v1/gateway.proto

import type { ClientDisplay as _cimd_v1_ClientDisplay, ClientDisplay__Output as _cimd_v1_ClientDisplay__Output } from '../../cimd/v1/ClientDisplay';

export interface AuthenticateClientResponse {
  'authenticated'?: (boolean);
  /**
   * "none" or "private_key_jwt": how the client authenticated, or would have to.
   */
  'method'?: (string);
  /**
   * "invalid_client" on a refusal; "temporarily_unavailable" when the document could not be had
   * in time (retry shortly).
   */
  'error'?: (string);
  'error_description'?: (string);
  /**
   * The rule that decided a refusal (docs/RULES.md), e.g. "client_auth.replayed".
   */
  'reason'?: (string);
  'client'?: (_cimd_v1_ClientDisplay | null);
  '_method'?: "method";
  '_error'?: "error";
  '_error_description'?: "error_description";
  '_reason'?: "reason";
}

export interface AuthenticateClientResponse__Output {
  'authenticated'?: (boolean);
  /**
   * "none" or "private_key_jwt": how the client authenticated, or would have to.
   */
  'method'?: (string);
  /**
   * "invalid_client" on a refusal; "temporarily_unavailable" when the document could not be had
   * in time (retry shortly).
   */
  'error'?: (string);
  'error_description'?: (string);
  /**
   * The rule that decided a refusal (docs/RULES.md), e.g. "client_auth.replayed".
   */
  'reason'?: (string);
  'client'?: (_cimd_v1_ClientDisplay__Output);
}
