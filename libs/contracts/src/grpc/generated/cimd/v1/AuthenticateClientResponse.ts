// Original file: proto/cimd/v1/gateway.proto

import type { ClientDisplay as _cimd_v1_ClientDisplay, ClientDisplay__Output as _cimd_v1_ClientDisplay__Output } from '../../cimd/v1/ClientDisplay';
import type { FetchFailure as _cimd_v1_FetchFailure, FetchFailure__Output as _cimd_v1_FetchFailure__Output } from '../../cimd/v1/FetchFailure';

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
  /**
   * On "temporarily_unavailable": why the client's last fetch failed, when known.
   */
  'fetch_error'?: (_cimd_v1_FetchFailure | null);
  /**
   * On "temporarily_unavailable": seconds after which a new attempt may get another answer.
   */
  'retry_after_seconds'?: (number);
  '_method'?: "method";
  '_error'?: "error";
  '_error_description'?: "error_description";
  '_reason'?: "reason";
  '_retry_after_seconds'?: "retry_after_seconds";
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
  /**
   * On "temporarily_unavailable": why the client's last fetch failed, when known.
   */
  'fetch_error'?: (_cimd_v1_FetchFailure__Output);
  /**
   * On "temporarily_unavailable": seconds after which a new attempt may get another answer.
   */
  'retry_after_seconds'?: (number);
}
