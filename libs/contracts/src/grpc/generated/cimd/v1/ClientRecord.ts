// Original file: proto/cimd/v1/gateway.proto

import type { Finding as _cimd_v1_Finding, Finding__Output as _cimd_v1_Finding__Output } from '../../cimd/v1/Finding';
import type { FetchFailure as _cimd_v1_FetchFailure, FetchFailure__Output as _cimd_v1_FetchFailure__Output } from '../../cimd/v1/FetchFailure';
import type { KeySetState as _cimd_v1_KeySetState, KeySetState__Output as _cimd_v1_KeySetState__Output } from '../../cimd/v1/KeySetState';

/**
 * A client as the shared cache holds it (GET /v1/clients).
 */
export interface ClientRecord {
  'client_id'?: (string);
  /**
   * "valid", "invalid" or "gone".
   */
  'status'?: (string);
  /**
   * "fresh", "refresh_due" (served while a refresh runs) or "expired".
   */
  'freshness'?: (string);
  /**
   * The normalized validated document as a JSON object text; only when status is "valid".
   * JSON rather than google.protobuf.Struct: the document is the client's own JSON, and a
   * Struct would turn every number into a double.
   */
  'document_json'?: (string);
  /**
   * Warning codes of the document rules.
   */
  'warnings'?: (string)[];
  /**
   * Why the client is invalid or gone.
   */
  'errors'?: (_cimd_v1_Finding)[];
  /**
   * sha256 of the document as served.
   */
  'raw_hash'?: (string);
  'fetched_at'?: (string);
  'refresh_at'?: (string);
  'expires_at'?: (string);
  /**
   * When this deployment first fetched the client.
   */
  'first_seen_at'?: (string);
  'etag'?: (string);
  'last_modified'?: (string);
  /**
   * The gateway's own copy of the logo, when one was fetched.
   */
  'logo_url'?: (string);
  /**
   * The latest transient fetch failure, for operators; never a reason to stop serving.
   */
  'last_error'?: (_cimd_v1_FetchFailure | null);
  /**
   * The key set at the document's jwks_uri, when it has one.
   */
  'keys'?: (_cimd_v1_KeySetState | null);
  '_document_json'?: "document_json";
  '_raw_hash'?: "raw_hash";
  '_first_seen_at'?: "first_seen_at";
  '_etag'?: "etag";
  '_last_modified'?: "last_modified";
  '_logo_url'?: "logo_url";
}

/**
 * A client as the shared cache holds it (GET /v1/clients).
 */
export interface ClientRecord__Output {
  'client_id'?: (string);
  /**
   * "valid", "invalid" or "gone".
   */
  'status'?: (string);
  /**
   * "fresh", "refresh_due" (served while a refresh runs) or "expired".
   */
  'freshness'?: (string);
  /**
   * The normalized validated document as a JSON object text; only when status is "valid".
   * JSON rather than google.protobuf.Struct: the document is the client's own JSON, and a
   * Struct would turn every number into a double.
   */
  'document_json'?: (string);
  /**
   * Warning codes of the document rules.
   */
  'warnings': (string)[];
  /**
   * Why the client is invalid or gone.
   */
  'errors': (_cimd_v1_Finding__Output)[];
  /**
   * sha256 of the document as served.
   */
  'raw_hash'?: (string);
  'fetched_at'?: (string);
  'refresh_at'?: (string);
  'expires_at'?: (string);
  /**
   * When this deployment first fetched the client.
   */
  'first_seen_at'?: (string);
  'etag'?: (string);
  'last_modified'?: (string);
  /**
   * The gateway's own copy of the logo, when one was fetched.
   */
  'logo_url'?: (string);
  /**
   * The latest transient fetch failure, for operators; never a reason to stop serving.
   */
  'last_error'?: (_cimd_v1_FetchFailure__Output);
  /**
   * The key set at the document's jwks_uri, when it has one.
   */
  'keys'?: (_cimd_v1_KeySetState__Output);
}
