// Original file: proto/cimd/v1/gateway.proto

import type { ClientDisplay as _cimd_v1_ClientDisplay, ClientDisplay__Output as _cimd_v1_ClientDisplay__Output } from '../../cimd/v1/ClientDisplay';
import type { Trust as _cimd_v1_Trust, Trust__Output as _cimd_v1_Trust__Output } from '../../cimd/v1/Trust';
import type { CacheState as _cimd_v1_CacheState, CacheState__Output as _cimd_v1_CacheState__Output } from '../../cimd/v1/CacheState';
import type { FetchFailure as _cimd_v1_FetchFailure, FetchFailure__Output as _cimd_v1_FetchFailure__Output } from '../../cimd/v1/FetchFailure';

export interface CheckAuthorizationResponse {
  /**
   * "allow", "deny" or "pending" (the document could not be had in time: retry shortly).
   */
  'decision'?: (string);
  /**
   * The OAuth error (RFC 6749 §4.1.2.1) to send the client on "deny" and "pending":
   * invalid_request, invalid_client, unauthorized_client, unsupported_response_type,
   * invalid_scope, temporarily_unavailable.
   */
  'error'?: (string);
  'error_description'?: (string);
  /**
   * The rule that decided a denial (docs/RULES.md), e.g. "redirect_uri.not_registered".
   */
  'reason'?: (string);
  /**
   * What a consent screen shows; absent when the client_id is not even a URL.
   */
  'client'?: (_cimd_v1_ClientDisplay | null);
  /**
   * Absent on some denials and on "pending".
   */
  'trust'?: (_cimd_v1_Trust | null);
  /**
   * Present when the decision was made on a valid cached document.
   */
  'cache'?: (_cimd_v1_CacheState | null);
  /**
   * On a denial: whether the AS may send the error to the redirect_uri (false: show an error
   * page, never redirect; RFC 6749 §4.1.2.1).
   */
  'redirect'?: (boolean);
  /**
   * On "pending": why the client's last fetch failed (fetch.dns_failed, fetch.timeout, …), when known.
   */
  'fetch_error'?: (_cimd_v1_FetchFailure | null);
  /**
   * On "pending": seconds after which a new check may get another answer.
   */
  'retry_after_seconds'?: (number);
  '_error'?: "error";
  '_error_description'?: "error_description";
  '_reason'?: "reason";
  '_redirect'?: "redirect";
  '_retry_after_seconds'?: "retry_after_seconds";
}

export interface CheckAuthorizationResponse__Output {
  /**
   * "allow", "deny" or "pending" (the document could not be had in time: retry shortly).
   */
  'decision'?: (string);
  /**
   * The OAuth error (RFC 6749 §4.1.2.1) to send the client on "deny" and "pending":
   * invalid_request, invalid_client, unauthorized_client, unsupported_response_type,
   * invalid_scope, temporarily_unavailable.
   */
  'error'?: (string);
  'error_description'?: (string);
  /**
   * The rule that decided a denial (docs/RULES.md), e.g. "redirect_uri.not_registered".
   */
  'reason'?: (string);
  /**
   * What a consent screen shows; absent when the client_id is not even a URL.
   */
  'client'?: (_cimd_v1_ClientDisplay__Output);
  /**
   * Absent on some denials and on "pending".
   */
  'trust'?: (_cimd_v1_Trust__Output);
  /**
   * Present when the decision was made on a valid cached document.
   */
  'cache'?: (_cimd_v1_CacheState__Output);
  /**
   * On a denial: whether the AS may send the error to the redirect_uri (false: show an error
   * page, never redirect; RFC 6749 §4.1.2.1).
   */
  'redirect'?: (boolean);
  /**
   * On "pending": why the client's last fetch failed (fetch.dns_failed, fetch.timeout, …), when known.
   */
  'fetch_error'?: (_cimd_v1_FetchFailure__Output);
  /**
   * On "pending": seconds after which a new check may get another answer.
   */
  'retry_after_seconds'?: (number);
}
